import { applyRetention, planRetention } from '@gridstream/archive-tools';
import { loadConfig } from '@gridstream/config';
import { checkInfluxEnv, influxConfigFromEnv, influxEnvShape } from '@gridstream/influx';
import { z } from 'zod';
import {
  type CommandIo,
  EXIT_USAGE,
  type Out,
  parseCommandArgs,
  runCommand,
  UsageError,
  wantsHelp,
} from './archive-cli-io.js';

const USAGE = `gridstream influx retention --days N [--yes]

  Keep N days hot in InfluxDB (INFLUX_DATABASE): sets the database's DEFAULT retention policy to
  DURATION Nd (creates one named "hot" if there is none); 0 keeps data forever. InfluxDB deletes
  older shards at its next retention check, so export them first (gridstream export --to <cutoff>).
  Without --yes it only prints the statement it would run.`;

const influxSchema = z.object(influxEnvShape).superRefine(checkInfluxEnv);

/** `gridstream influx …`; `argv` starts after `influx`. Returns the exit code; never throws. */
export async function runInfluxCommand(argv: string[], out: Out, io: CommandIo = {}): Promise<number> {
  const err = io.err ?? process.stderr;
  const [sub, ...rest] = argv;
  if (sub === undefined || wantsHelp(argv)) {
    out.write(`${USAGE}\n`);
    return sub === undefined ? EXIT_USAGE : 0;
  }
  return runCommand(`influx ${sub}`, USAGE, out, err, async () => {
    if (sub !== 'retention') throw new UsageError(`unknown command "${sub}"`);
    const { values, positionals } = parseCommandArgs(rest, {
      days: { type: 'string' },
      yes: { type: 'boolean' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values.days === undefined || !/^\d+$/.test(values.days)) {
      throw new UsageError('--days N is required (a whole number; 0 = keep forever)');
    }
    const cfg = influxConfigFromEnv(loadConfig(influxSchema, io.env ?? process.env));
    const plan = await planRetention({ ...cfg, api: 'v1' }, Number(values.days));
    out.write(`${plan.statement}\n`);
    if (plan.cutoff !== undefined) {
      out.write(
        `points before ${plan.cutoff.toISOString()} will be deleted at InfluxDB's next retention check\n`,
      );
    }
    if (!values.yes) {
      out.write('not applied: run again with --yes\n');
      return 0;
    }
    await applyRetention({ ...cfg, api: 'v1' }, plan);
    out.write(
      `applied: ${plan.action === 'alter' ? 'altered' : 'created'} retention policy "${plan.policy}" on ${plan.database}\n`,
    );
    return 0;
  });
}
