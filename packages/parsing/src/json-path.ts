/**
 * Builds the `path` of a Problem (`FieldDeviceLayer.field3.service[1].soc`). Only called once a problem is
 * found, so the happy path never concatenates paths. Keys that are not plain identifiers are quoted
 * (`["Cipher Algorithm"]`) so that a path can always be read back unambiguously.
 */
const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** A path ends up in a dead letter's headers; a megabyte-long key must not make it a megabyte too. */
const MAX_KEY = 100;

export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (key.length <= MAX_KEY && PLAIN_KEY.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key.length > MAX_KEY ? `${key.slice(0, MAX_KEY)}…` : key)}]`;
}
