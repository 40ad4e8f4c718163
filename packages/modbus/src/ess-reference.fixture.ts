/**
 * The ESS register map (../shared/reference/ess-modbus/register_map_operation1_derived.csv) as rows, and
 * the naming rules that turn its db_column names into gridstream field names. Shared by the profile
 * generator (scripts/generate-ess-profile.ts) and the cross-check test, so both apply the same rules.
 * Test support only: not part of the package's build.
 */

export interface EssRow {
  part: string;
  address: number;
  words: number;
  /** bank | rack | pcs | etc, or '' for the dropped register 603. */
  table: string;
  rack?: string;
  column: string;
  /** UInt16 | Int16 | Float32 ('' for 603). */
  type: string;
  scale: number;
  unit: string;
  rangeMin?: number;
  rangeMax?: number;
  notes: string;
  /** The spec meaning from the notes, without the remarks about the replaced code. */
  description?: string;
}

/** RFC 4180 fields: quoted fields may hold commas and doubled quotes. */
function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

function optionalNumber(text: string | undefined): number | undefined {
  return text === undefined || text === '' ? undefined : Number(text);
}

function describe(notes: string): string | undefined {
  const kept = notes
    .replace(/;?\s*no range check in code$/, '')
    .replace(/;\s*kafka-era code.*$/, '')
    .trim();
  if (kept === '' || /decoding bug|code stores words|position index/.test(kept)) return undefined;
  // gridstream stores the device's value; the replaced code's inversion is noted so nobody re-applies it.
  return kept.replace('code inverts to', 'the replaced code stored it inverted as');
}

export function parseCsv(text: string): EssRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = splitCsvLine(lines[0]!);
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`register map has no column ${name}`);
    return i;
  };
  const c = {
    part: col('part'),
    address: col('address'),
    words: col('words'),
    table: col('db_table'),
    rack: col('rack_id'),
    column: col('db_column'),
    type: col('spec_data_type'),
    scale: col('code_scale_factor'),
    unit: col('spec_unit'),
    min: col('code_range_min'),
    max: col('code_range_max'),
    notes: col('notes'),
  };
  return lines.slice(1).map((line) => {
    const f = splitCsvLine(line);
    const row: EssRow = {
      part: f[c.part]!,
      address: Number(f[c.address]),
      words: Number(f[c.words]),
      table: f[c.table] ?? '',
      column: f[c.column] ?? '',
      type: f[c.type] ?? '',
      scale: f[c.scale] ? Number(f[c.scale]) : 1,
      unit: f[c.unit] ?? '',
      notes: f[c.notes] ?? '',
    };
    if (f[c.rack]) row.rack = f[c.rack]!;
    const min = optionalNumber(f[c.min]);
    const max = optionalNumber(f[c.max]);
    if (min !== undefined) row.rangeMin = min;
    if (max !== undefined) row.rangeMax = max;
    const description = describe(row.notes);
    if (description !== undefined) row.description = description;
    return row;
  });
}

/**
 * db_column -> field name. Lower snake case, then the record's own prefix goes, so that one query reads
 * the bank and every rack alike (`soc` of device bank, rack tag empty or 1..8):
 * - bank: BANK_x / x_OF_BANK / BATTERY_x lose the prefix or suffix, BANK_DC_VOLT/CURRENT become
 *   voltage/current (as for racks), and the BMS2 bank alarms RACK_x lose RACK_ (the rack-level alarm of
 *   the same name is RACK_RACK_x or RACK_x in the map) — except RACK_N00k_…, where the number names a rack;
 * - rack: every leading RACK_ goes (RACK_SOC -> soc, RACK_RACK_UNDER_… -> under_…);
 * - pcs: a leading PCS_ goes (PCS_STATUS_0 -> status_0);
 * - etc: kept, with the schema's misspelling CUMLUATIVE corrected.
 */
export function essFieldName(row: Pick<EssRow, 'table' | 'column'>): string {
  let name = row.column.toLowerCase();
  switch (row.table) {
    case 'bank':
      name = name
        .replace(/^bank_/, '')
        .replace(/_of_bank$/, '')
        .replace(/^battery_/, '');
      if (name === 'dc_volt') name = 'voltage';
      if (name === 'dc_current') name = 'current';
      if (!/^rack_n\d/.test(name)) name = name.replace(/^rack_/, '');
      return name;
    case 'rack':
      return name.replace(/^(rack_)+/, '');
    case 'pcs':
      return name.replace(/^pcs_/, '');
    default:
      return name.replace('cumluative', 'cumulative');
  }
}

/** The spec's unit, tidied: the "(as printed; …)" notes in the map say what the quantity really is. */
export function essUnit(row: Pick<EssRow, 'unit'>): string | undefined {
  const unit = row.unit.trim();
  if (unit === '') return undefined;
  if (unit.startsWith('KW (as printed; energy)') || unit.startsWith('KW (as printed; cumulative energy)'))
    return 'kWh';
  if (unit.startsWith('degC (as printed; humidity)')) return '%RH';
  if (unit === 'KW') return 'kW';
  return unit;
}
