// What Twilio charged for a message: the Message resource's `price` and `price_unit`. Twilio
// writes a charge as a negative decimal string ("-0.00750") in `price_unit` ("USD"), and leaves
// `price` null until it has rated the message, which may be a while after delivery. Its status
// callbacks carry no price, so Herald reads it from the resource after the final status.
// https://www.twilio.com/docs/messaging/api/message-resource

import { CURRENCY_CODE, parseReportedAmount, type Money } from '../../domain/money.js';

/**
 * The cost in a Message resource's `price`/`price_unit`: its magnitude, exact; `undefined` while
 * `price` is null or absent (not rated yet).
 * @throws Error when the price is not a plain decimal or the unit not a currency code.
 */
export function twilioCost(price: unknown, priceUnit: unknown): Money | undefined {
  if (price === null || price === undefined || price === '') return undefined;
  // Twilio sends a string; a JSON number is read through its text (an exponent is refused).
  const text = typeof price === 'string' ? price : typeof price === 'number' && Number.isFinite(price) ? String(price) : undefined;
  if (text === undefined) throw new Error(`twilio: price is not a decimal: ${JSON.stringify(price)}`);
  const amount = parseReportedAmount(text);
  if (!amount.ok) throw new Error(`twilio: price ${amount.message}`);
  const currency = typeof priceUnit === 'string' ? priceUnit.trim().toUpperCase() : '';
  if (!CURRENCY_CODE.test(currency)) throw new Error(`twilio: price_unit is not a currency code: ${JSON.stringify(priceUnit)}`);
  return { micros: amount.micros, currency };
}
