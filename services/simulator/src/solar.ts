/**
 * Sun position for the PV model. The simulator treats the site's wall-clock time as solar time (as if the
 * site sat on its zone's meridian), so the PV curve peaks around local noon in whatever zone is configured;
 * the small longitude and equation-of-time offsets of a real site do not matter for test data.
 */
export interface SunPosition {
  /** Degrees above the horizon; negative at night. */
  altitude: number;
  /** Degrees clockwise from north. */
  azimuth: number;
  /** Local hours of sunrise and sunset (NaN in polar day/night). */
  sunrise: number;
  sunset: number;
}

const RAD = Math.PI / 180;

export function sunPosition(latitudeDeg: number, dayOfYear: number, solarHours: number): SunPosition {
  const declination = 23.44 * Math.sin((2 * Math.PI * (284 + dayOfYear)) / 365) * RAD;
  const lat = latitudeDeg * RAD;
  const hourAngle = (solarHours - 12) * 15 * RAD;
  const sinAlt =
    Math.sin(lat) * Math.sin(declination) + Math.cos(lat) * Math.cos(declination) * Math.cos(hourAngle);
  const altitude = Math.asin(Math.max(-1, Math.min(1, sinAlt)));
  const cosAz =
    (Math.sin(declination) - Math.sin(altitude) * Math.sin(lat)) /
    Math.max(1e-9, Math.cos(altitude) * Math.cos(lat));
  let azimuth = Math.acos(Math.max(-1, Math.min(1, cosAz))) / RAD;
  if (hourAngle > 0) azimuth = 360 - azimuth;
  const cosH0 = -Math.tan(lat) * Math.tan(declination);
  const h0 = Math.abs(cosH0) <= 1 ? Math.acos(cosH0) / RAD / 15 : Number.NaN;
  return { altitude: altitude / RAD, azimuth, sunrise: 12 - h0, sunset: 12 + h0 };
}

/** 5.32 h → 519 (05:19), the gateway's HHMM-as-a-number convention. */
export function hoursToHhmm(hours: number): number {
  if (!Number.isFinite(hours)) return 0;
  const total = Math.round(hours * 60);
  return Math.floor(total / 60) * 100 + (total % 60);
}
