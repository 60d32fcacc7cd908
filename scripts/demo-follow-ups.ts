/** What the demo tells the user to run next; the first-hour test runs each of them in a new shell. */
export function demoFollowUps(deliveryId: string): string[] {
  return [
    `npx datashare delivery ${deliveryId}`,
    'npx datashare deliveries --limit 5',
    'npx datashare profile policy acme --format cloudformation',
    'npx datashare doctor   # says FAIL for the worker until one runs: npx datashare worker',
  ];
}
