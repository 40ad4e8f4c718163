import { ParquetEngine } from '@gridstream/archive';

/**
 * One archive file of `count` battery SoC readings (one a minute from 2026-01-01T00:00Z, values 50, 51, …),
 * written with the archiver's own Parquet writer: the small archive the console's and the CLI's query tests
 * read back.
 */
export async function writeSocArchiveFile(
  file: string,
  options: { site: string; count: number },
): Promise<void> {
  const engine = await ParquetEngine.create();
  try {
    await engine.writeRows(
      Array.from({ length: options.count }, (_, i) => ({
        ts: Date.UTC(2026, 0, 1, 0, i),
        site: options.site,
        equipment: 'battery',
        device: 'bank',
        rack: null,
        field: 'soc',
        value: 50 + i,
        is_flag: false,
        quality: null,
        kafka_partition: 0,
        kafka_offset: BigInt(i),
      })),
      file,
    );
  } finally {
    engine.close();
  }
}
