import { randomBytes } from 'node:crypto';
import { DeleteDatabaseCommand, GlueClient, UpdateTableCommand } from '@aws-sdk/client-glue';
import { expectedTableInput } from '@gridstream/archive-tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MOTO_REGION,
  MOTO_URL,
  motoEnv,
  requireMoto,
  useMotoCredentials,
} from '../../archive-tools/src/moto.fixture.js';
import { runGlueCommand } from './glue-command.js';

/** `gridstream glue …` against the moto server (deploy/local/moto.sh). */

const database = `gs_cli_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const env = motoEnv({
  ARCHIVE_S3_BUCKET: 'gs-archive',
  ARCHIVE_S3_PREFIX: 'telemetry',
  GLUE_DATABASE: database,
  GLUE_CRAWLER_NAME: `${database}-crawler`,
});
let glue: GlueClient;

function capture() {
  let text = '';
  return {
    write: (s: string) => (text += s),
    get text() {
      return text;
    },
  };
}

beforeAll(async () => {
  useMotoCredentials();
  await requireMoto();
  glue = new GlueClient({ region: MOTO_REGION, endpoint: MOTO_URL });
});

afterAll(async () => {
  await glue.send(new DeleteDatabaseCommand({ Name: database })).catch(() => undefined);
});

describe('gridstream glue (moto)', () => {
  it('create-table creates, then finds nothing to do; --check reports a drifted table with exit 1', async () => {
    const first = capture();
    expect(await runGlueCommand(['create-table'], first, { env })).toBe(0);
    expect(first.text).toContain(`database ${database}: created`);
    expect(first.text).toContain(
      `table ${database}.telemetry: created (location s3://gs-archive/telemetry/, partition projection on dt)`,
    );
    const again = capture();
    expect(await runGlueCommand(['create-table'], again, { env })).toBe(0);
    expect(again.text).toContain(`table ${database}.telemetry: unchanged`);

    const expected = expectedTableInput({
      database,
      table: 'telemetry',
      bucket: 'gs-archive',
      prefix: 'telemetry',
    });
    await glue.send(
      new UpdateTableCommand({
        DatabaseName: database,
        TableInput: {
          ...expected,
          Parameters: { ...expected.Parameters, 'projection.dt.range': '2024-01-01,NOW' },
        },
      }),
    );
    const check = capture();
    expect(await runGlueCommand(['create-table', '--check'], check, { env })).toBe(1);
    expect(check.text).toContain('differences (not changed):');
    expect(check.text).toContain(
      'parameter projection.dt.range: is "2024-01-01,NOW", expected "2020-01-01,NOW"',
    );
    const fix = capture();
    expect(await runGlueCommand(['create-table'], fix, { env })).toBe(0);
    expect(fix.text).toContain('updated');
  });

  it('crawler needs a role, then creates and runs the crawler', async () => {
    const noRole = capture();
    expect(await runGlueCommand(['crawler'], noRole, { env, err: capture() })).toBe(2);
    expect(noRole.text).toContain('GLUE_CRAWLER_ROLE is not set');
    const out = capture();
    const err = capture();
    const withRole = { ...env, GLUE_CRAWLER_ROLE: 'arn:aws:iam::123456789012:role/gridstream-crawler' };
    expect(await runGlueCommand(['crawler'], out, { env: withRole, err })).toBe(0);
    expect(out.text).toMatch(
      new RegExp(`^crawler ${database}-crawler \\(created\\): last crawl (SUCCEEDED|COMPLETED)`),
    );
    expect(err.text).toMatch(/crawler .*: READY/);
  });

  it('a bucket is required', async () => {
    const out = capture();
    expect(await runGlueCommand(['create-table'], out, { env: { GLUE_DATABASE: database } })).toBe(2);
    expect(out.text).toContain('ARCHIVE_S3_BUCKET is not set');
  });
});
