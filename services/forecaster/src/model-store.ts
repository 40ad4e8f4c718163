import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FittedModel, type FittedModelJson, fromJSON } from '@gridstream/forecast';

/** What a saved model was fitted for: a file for another spec (model, seasons, step) is not reused. */
export interface ModelSpec {
  model: string;
  periods: number[];
  stepMs: number;
}

interface SavedModel {
  v: 1;
  key: string;
  spec: ModelSpec;
  /** When the model was last fitted on the whole history (epoch ms); `update`s in between do not count. */
  fittedAt: number;
  fitted: FittedModelJson;
}

const sameSpec = (a: ModelSpec, b: ModelSpec) =>
  a.model === b.model && a.stepMs === b.stepMs && a.periods.join(',') === b.periods.join(',');

/**
 * Fitted models on disk, one JSON file per series, so a restarted forecaster forecasts at once (moving
 * the saved model over the values since) instead of waiting for a refit. Written to a temporary name and
 * renamed, so a crash mid-write leaves the previous model, never half a file.
 */
export class ModelStore {
  constructor(private readonly dir: string) {}

  private file(key: string): string {
    return join(this.dir, `${encodeURIComponent(key)}.json`);
  }

  async load(key: string, spec: ModelSpec): Promise<{ fitted: FittedModel; fittedAt: number } | undefined> {
    let text: string;
    try {
      text = await readFile(this.file(key), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const saved = JSON.parse(text) as SavedModel;
      if (saved.v !== 1 || saved.key !== key || !sameSpec(saved.spec, spec)) return undefined;
      return { fitted: fromJSON(saved.fitted), fittedAt: saved.fittedAt };
    } catch {
      return undefined; // unreadable or of another version: fitted again
    }
  }

  async save(key: string, spec: ModelSpec, fitted: FittedModel, fittedAt: number): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const saved: SavedModel = { v: 1, key, spec, fittedAt, fitted: fitted.toJSON() };
    const file = this.file(key);
    await writeFile(`${file}.tmp`, JSON.stringify(saved));
    await rename(`${file}.tmp`, file);
  }
}
