/** A day is 96 slots of 15 minutes (DESIGN.md, "Time and units"). Slots are 0-based in code. */
export const SLOTS = 96;
/** Length of a slot in hours: power (kW) times DT is energy (kWh). */
export const DT = 0.25;
export const SLOTS_PER_HOUR = 4;

/** "HH:MM" of the start of a slot. */
export function slotTime(slot: number): string {
  const minutes = slot * 15;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

/** Expand an hourly profile (24 values) to slots by holding each hour's value for its 4 slots. */
export function hourlyToSlots(hourly: ArrayLike<number>): Float64Array {
  const out = new Float64Array(SLOTS);
  for (let t = 0; t < SLOTS; t++) out[t] = hourly[Math.floor(t / SLOTS_PER_HOUR)];
  return out;
}
