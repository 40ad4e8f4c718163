import type { Channel } from 'amqplib';
import type { AmqpTopologyConfig } from './env.js';

/**
 * Declares the durable exchange, the durable queue and its bindings. Idempotent: both the bridge and the
 * simulator call it, so whichever starts first creates the queue and no message published before the
 * bridge runs is dropped by an exchange without bindings.
 *
 * An existing queue declared with other arguments (classic vs quorum) makes RabbitMQ close the channel
 * with PRECONDITION_FAILED; the error is rethrown with the variable to change, since the broker's own
 * text does not say which setting of ours disagrees.
 */
export async function declareTopology(channel: Channel, topology: AmqpTopologyConfig): Promise<void> {
  await channel.assertExchange(topology.exchange, topology.exchangeType, { durable: true });
  try {
    await channel.assertQueue(topology.queue, {
      durable: true,
      arguments: { 'x-queue-type': topology.queueType },
    });
  } catch (err) {
    if ((err as { code?: number }).code === 406) {
      throw new Error(
        `queue "${topology.queue}" already exists with different arguments than AMQP_QUEUE_TYPE=${topology.queueType} ` +
          `(RabbitMQ: ${(err as Error).message}); set AMQP_QUEUE_TYPE to the existing type or use another AMQP_QUEUE`,
        { cause: err },
      );
    }
    throw err;
  }
  // A fanout exchange ignores the binding key, but the binding itself is still needed.
  const keys = topology.exchangeType === 'fanout' ? [''] : topology.routingKeys;
  for (const key of keys) {
    await channel.bindQueue(topology.queue, topology.exchange, key);
  }
}

/** Declares only the exchange: for publishers that must not create or own a queue. */
export async function declareExchange(channel: Channel, topology: AmqpTopologyConfig): Promise<void> {
  await channel.assertExchange(topology.exchange, topology.exchangeType, { durable: true });
}

/**
 * Removes the queue and the exchange (tests and demo resets). Not called by services: deleting a queue
 * throws away whatever it still holds.
 */
export async function deleteTopology(channel: Channel, topology: AmqpTopologyConfig): Promise<void> {
  await channel.deleteQueue(topology.queue);
  await channel.deleteExchange(topology.exchange);
}
