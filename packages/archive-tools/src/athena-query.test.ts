import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { describe, expect, it } from 'vitest';
import { runAthenaQuery } from './athena-query.js';

/** A stand-in Athena answering five result pages of 1000 rows each; counts the pages asked for. */
function fakeAthena(): { client: AthenaClient; pagesRead: () => number } {
  let pages = 0;
  const client = {
    send: async (command: unknown) => {
      if (command instanceof StartQueryExecutionCommand) return { QueryExecutionId: 'q1' };
      if (command instanceof GetQueryExecutionCommand)
        return { QueryExecution: { Status: { State: 'SUCCEEDED' } } };
      if (command instanceof GetQueryResultsCommand) {
        const page = Number(command.input.NextToken ?? '0');
        pages++;
        const rows = Array.from({ length: 1000 }, (_, i) => ({
          Data: [{ VarCharValue: String(page * 1000 + i) }],
        }));
        return {
          ResultSet: {
            ResultSetMetadata: { ColumnInfo: [{ Name: 'n', Label: 'n' }] },
            Rows: page === 0 ? [{ Data: [{ VarCharValue: 'n' }] }, ...rows] : rows,
          },
          NextToken: page < 4 ? String(page + 1) : undefined,
        };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as AthenaClient;
  return { client, pagesRead: () => pages };
}

describe('runAthenaQuery result paging', () => {
  it('reads every page by default', async () => {
    const athena = fakeAthena();
    const out = await runAthenaQuery(athena.client, { sql: 'SELECT n', database: 'd', pollMs: 1 });
    expect(out.columns).toEqual(['n']);
    expect(out.rows).toHaveLength(5000);
    expect(athena.pagesRead()).toBe(5);
  });

  it('stops paging once maxRows rows are in', async () => {
    const athena = fakeAthena();
    const out = await runAthenaQuery(athena.client, {
      sql: 'SELECT n',
      database: 'd',
      pollMs: 1,
      maxRows: 1501,
    });
    expect(out.rows).toHaveLength(1501);
    expect(out.rows.at(-1)).toEqual(['1500']);
    expect(athena.pagesRead()).toBe(2);
  });
});
