/**
 * Errors that say this member's view of the group is out of date: a rebalance is under way, the group no
 * longer knows the member (its session expired while a sink hung), or it acted for an older generation.
 * None of them is a failure of the work in hand; the only right answer is to give the slice up
 * uncommitted and rejoin. kafkajs rejoins when one of them reaches its fetch loop, so the consumer loop
 * rethrows them instead of retrying (retrying would keep the member outside its group for good).
 */
const MEMBERSHIP_ERROR_TYPES = new Set([
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'FENCED_INSTANCE_ID',
  'NOT_COORDINATOR_FOR_GROUP',
]);

export function isMembershipError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const type = (error as { type?: unknown }).type;
  return typeof type === 'string' && MEMBERSHIP_ERROR_TYPES.has(type);
}

/**
 * A transactional producer that another instance with the same transactional id has replaced (a newer
 * owner of the input partition). Its transaction is aborted by the broker; the caller drops the producer.
 */
export function isFencedError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const type = (error as { type?: unknown }).type;
  return type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED';
}
