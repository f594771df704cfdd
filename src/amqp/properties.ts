/** The AMQP basic properties by amqplib's names, headers aside (each caller treats headers on their own). */
export const AMQP_PROPERTY_KEYS = [
  'contentType',
  'contentEncoding',
  'deliveryMode',
  'priority',
  'correlationId',
  'replyTo',
  'expiration',
  'messageId',
  'timestamp',
  'type',
  'userId',
  'appId',
] as const
