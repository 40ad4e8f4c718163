-- Faults per device and UTC day, from the boolean status flag `fault` (stored as 1/0, is_flag = true).
--   fault_events:  how often the flag went from 0 (or no earlier reading in the range) to 1, i.e. how
--                  many faults started that day; independent of how often the device reports.
--   fault_samples: readings with the flag set (how long the device sat in fault, in samples).
-- Edges are found per sub-unit (a battery rack's fault is its own event) and counted per device.
-- count(CASE … THEN 1 END) rather than sum(CASE … THEN 1 ELSE 0 END): the same numbers, and a bigint on
-- both engines (DuckDB's sum of integers is a 128-bit HUGEINT where Athena's is a bigint).
-- Two readings of one flag at the same ts (a gateway with whole-second clocks sending twice) are taken in
-- the order they arrived (kafka_partition, kafka_offset): with ORDER BY ts alone each engine picks its own
-- order for them, and their fault_events differ.
-- Runs unchanged on Athena and on `gridstream query --engine duckdb`; change the dt range as needed.
WITH flags AS (
  SELECT
    site, equipment, device, rack, ts, dt, value,
    lag(value) OVER (
      PARTITION BY site, equipment, device, rack ORDER BY ts, kafka_partition, kafka_offset
    ) AS previous
  FROM telemetry
  WHERE is_flag
    AND field = 'fault'
    AND dt BETWEEN '2024-03-01' AND '2024-03-31'
)
SELECT
  site,
  equipment,
  device,
  dt AS utc_day,
  count(CASE WHEN value = 1 AND (previous IS NULL OR previous = 0) THEN 1 END) AS fault_events,
  count(CASE WHEN value = 1 THEN 1 END) AS fault_samples,
  count(*) AS readings
FROM flags
GROUP BY site, equipment, device, dt
ORDER BY site, equipment, device, utc_day
