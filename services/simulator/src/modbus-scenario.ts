/**
 * Scripted episodes for the Modbus simulator: points whose values follow a timeline instead of the random
 * walk, so an alarm pipeline can be demonstrated and tested end to end with values known in advance.
 */

export const MODBUS_SCENARIOS = ['none', 'over-temperature'] as const;
export type ModbusScenarioName = (typeof MODBUS_SCENARIOS)[number];

/** A point held at a value: `name` narrowed by `rack` (null: the device's own point, not a rack's). */
export interface PinnedValue {
  name: string;
  rack: string | null;
  value: number;
}

export interface ModbusScenario {
  readonly name: ModbusScenarioName;
  /** The values the scenario holds `elapsedMs` after the simulator started; the same list of points always. */
  valuesAt(elapsedMs: number): PinnedValue[];
}

export interface OverTemperatureOptions {
  /** Length of one step of the timeline; a whole cycle is 10 periods. */
  periodMs: number;
  /** The rack that heats up. */
  rack: string;
  /** Cycles to play; after them the rack stays at its normal temperature. 0: repeat forever. */
  cycles?: number;
}

/** Rack temperatures of the over-temperature timeline (°C, exact in the profile's 0.1 °C registers). */
export const OVER_TEMPERATURE_LEVELS = {
  /** Well below every threshold: a healthy rack. */
  normal: 30,
  /** Above the 50 °C warning, below the 55 °C fault, and below 55 minus any sane hysteresis. */
  warm: 52,
  /** Above the 55 °C fault. */
  hot: 57,
} as const;

/**
 * Steps of one cycle, in periods: normal 1, warm 1 (warning raised), hot 2 (escalated to fault, held),
 * warm 1 (back below the fault's clear threshold: deescalated), normal 5 (below the warning's clear
 * threshold: cleared, then quiet long enough that the next cycle is a new episode).
 */
const TIMELINE: { periods: number; level: keyof typeof OVER_TEMPERATURE_LEVELS }[] = [
  { periods: 1, level: 'normal' },
  { periods: 1, level: 'warm' },
  { periods: 2, level: 'hot' },
  { periods: 1, level: 'warm' },
  { periods: 5, level: 'normal' },
];
export const OVER_TEMPERATURE_CYCLE_PERIODS = TIMELINE.reduce((n, s) => n + s.periods, 0);

/** The rack's max cell temperature `elapsedMs` into the scenario. */
export function overTemperatureAt(elapsedMs: number, options: OverTemperatureOptions): number {
  const period = Math.floor(Math.max(0, elapsedMs) / options.periodMs);
  const cycle = Math.floor(period / OVER_TEMPERATURE_CYCLE_PERIODS);
  if (options.cycles !== undefined && options.cycles > 0 && cycle >= options.cycles)
    return OVER_TEMPERATURE_LEVELS.normal;
  let at = period % OVER_TEMPERATURE_CYCLE_PERIODS;
  for (const step of TIMELINE) {
    if (at < step.periods) return OVER_TEMPERATURE_LEVELS[step.level];
    at -= step.periods;
  }
  return OVER_TEMPERATURE_LEVELS.normal;
}

/**
 * One rack heats up as a whole: its max cell temperature follows the timeline, its min and average
 * stay 2 and 1 °C below and the gap stays 2 °C. Moving only the max would open a 20+ °C spread between the
 * rack's cells, which a temperature-imbalance rule would (rightly) report as a second, unrelated alarm.
 * The bank's own values and every other rack keep their random walk.
 */
export function overTemperatureScenario(options: OverTemperatureOptions): ModbusScenario {
  if (!(options.periodMs > 0)) throw new Error('over-temperature scenario: periodMs must be > 0');
  const rack = options.rack;
  return {
    name: 'over-temperature',
    valuesAt(elapsedMs) {
      const max = overTemperatureAt(elapsedMs, options);
      return [
        { name: 'max_cell_temperature', rack, value: max },
        { name: 'min_cell_temperature', rack, value: max - 2 },
        { name: 'cell_temperature_average', rack, value: max - 1 },
        { name: 'cell_temperature_gap', rack, value: 2 },
      ];
    },
  };
}

/** The scenario a configuration names, or undefined for `none`. */
export function modbusScenario(
  name: ModbusScenarioName,
  options: OverTemperatureOptions,
): ModbusScenario | undefined {
  return name === 'over-temperature' ? overTemperatureScenario(options) : undefined;
}
