/**
 * The wall-clock → UTC conversion moved to @gridstream/schema (the file importer needs the same DST rules);
 * re-exported here so the parser's imports and tests stay as they were.
 */
export { isValidTimeZone, LocalTimeError, localTimeToUtcIso } from '@gridstream/schema';
