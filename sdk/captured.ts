/**
 * A promise and its resolve and reject functions without a closure per call: `new Promise(capture)`, then
 * take `captured.resolve` and `captured.reject` at once (a Promise runs its executor before the constructor
 * returns). An arrow function as the executor would cost an allocation per call, and its context another,
 * on the SDK's hot paths (every call, every receive()).
 */
export const captured: { resolve: (value: any) => void, reject: (err: unknown) => void } = {
  resolve: () => {},
  reject: () => {},
}

export function capture(resolve: (value: any) => void, reject: (err: unknown) => void): void {
  captured.resolve = resolve
  captured.reject = reject
}
