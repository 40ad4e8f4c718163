-- Battery state of charge per rack and hour: lowest, highest and number of readings.
-- Rack rows are the battery's sub-units (rack IS NOT NULL); the bank's own soc has rack NULL.
-- Runs unchanged on Athena and on `gridstream query --engine duckdb`; change the dt range as needed.
SELECT
  site,
  device,
  rack,
  date_trunc('hour', ts) AS hour_start,
  min(value) AS soc_min,
  max(value) AS soc_max,
  count(*) AS readings
FROM telemetry
WHERE equipment = 'battery'
  AND field = 'soc'
  AND rack IS NOT NULL
  AND dt BETWEEN '2024-03-01' AND '2024-03-31'
GROUP BY site, device, rack, date_trunc('hour', ts)
ORDER BY site, device, rack, hour_start
