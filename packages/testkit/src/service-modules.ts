import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './service-process.js';

/**
 * Parts of services that the harnesses (bench, soak) use as they are: a service is not a package (no
 * `exports`), and a static import by relative path would pull its source under the harness's rootDir, so
 * they are loaded from the services' build output at run time (`make build` first). The interfaces are the
 * contract; if the code moves into a package, import it from there instead.
 */

export interface MicrogridSiteModel {
  readonly siteId: string;
  readonly sequence: number;
  next(now: Date, timeZone: string): Buffer;
}

export interface MicrogridGeneratorModule {
  createMicrogridSite(options: {
    siteId: string;
    seed: number;
    timestampPrecision?: 's' | 'ms';
    racksPerBattery?: number;
  }): MicrogridSiteModel;
  expectedRecordCount(shape: object): number;
  REFERENCE_SITE_SHAPE: object;
}

const cache = new Map<string, Promise<unknown>>();
function load<T>(service: string, file: string): Promise<T> {
  const path = join(REPO_ROOT, 'services', service, 'dist', file);
  let module = cache.get(path);
  if (!module) {
    module = import(pathToFileURL(path).href);
    cache.set(path, module);
  }
  return module as Promise<T>;
}

/** The simulator's microgrid gateway message generator. */
export function loadMicrogridGenerator(): Promise<MicrogridGeneratorModule> {
  return load('simulator', 'microgrid-generator.js');
}
