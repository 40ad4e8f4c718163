-- Daily PV energy per site (kWh), from each inverter's own cumulative energy meter.
-- Per inverter and UTC day: last reading of CumulativePowerGeneration minus the first one (the meter
-- only counts up, so max - min), then summed over the site's inverters. Readings flagged with a quality
-- problem are left out, so one out-of-range glitch cannot become a day's worth of energy.
-- Runs unchanged on Athena and on `gridstream query --engine duckdb`; change the dt range as needed.
SELECT
  site,
  dt AS utc_day,
  round(sum(energy_kwh), 3) AS energy_kwh,
  count(*) AS inverters
FROM (
  SELECT site, device, dt, max(value) - min(value) AS energy_kwh
  FROM telemetry
  WHERE equipment = 'pv'
    AND field = 'CumulativePowerGeneration'
    AND quality IS NULL
    AND dt BETWEEN '2024-03-01' AND '2024-03-31'
  GROUP BY site, device, dt
) per_inverter
GROUP BY site, dt
ORDER BY site, utc_day
