import { createHash } from 'node:crypto';
import type { Sample } from '@gridstream/schema';

/**
 * `gs-message-id` of the samples.v1 messages made from one MQTT message (`PushOptions.messageId`): derived
 * from the samples themselves — identity, time and values — so the same readings taken again get the same
 * ids, and the parser's duplicate window (source + message id) drops the copy. The spool's default
 * (`<spool id>-<sequence>`) would give a copy a new id and the archive a second row of each reading. An MQTT
 * message can be taken twice by any collector process:
 *
 * - a `kill -9` after the spool append and before the broker has the PUBACK: the broker sends the message
 *   again to the next process, which cannot know it was spooled;
 * - a publisher that missed the broker's PUBACK (a broker restart) publishes again: the broker forwards a
 *   second, new message (no DUP flag);
 * - MQTT 3.1.1: the retained message the broker sends again at each (re)subscription.
 *
 * Identical samples are the same readings (the pipeline's identity is device, field and instant), so
 * dropping one loses nothing. Samples timed by the collector (`time: received`, a death's offline flag)
 * differ between original and copy, and stay two readings.
 */
export function samplesMessageId(samples: readonly Sample[]): (firstSample: number) => string {
  const digest = createHash('sha256').update(JSON.stringify(samples)).digest('base64url').slice(0, 24);
  return (firstSample) => `mqtt:${digest}.${firstSample}`;
}
