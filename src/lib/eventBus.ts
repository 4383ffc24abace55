/**
 * A typed, synchronous publish/subscribe channel. One component says what happened ("a job was queued");
 * whoever cares (the runner's wake-up, a metric) subscribes, so no component calls another directly.
 * A listener that throws is reported through `onListenerError` and never reaches the emitter or the other
 * listeners: a broken metric must not fail an SMTP transaction.
 */
export type Listener<T> = (payload: T) => void;

export interface EventBus<Events extends object> {
  /** Subscribes; returns the unsubscribe. */
  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void;
  emit<K extends keyof Events>(name: K, payload: Events[K]): void;
}

export function makeEventBus<Events extends object>(
  onListenerError: (error: unknown, name: string) => void,
): EventBus<Events> {
  const listeners = new Map<keyof Events, Set<Listener<never>>>();
  return {
    on(name, listener) {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      set.add(listener as Listener<never>);
      return () => void set.delete(listener as Listener<never>);
    },
    emit(name, payload) {
      for (const listener of listeners.get(name) ?? []) {
        try {
          (listener as Listener<typeof payload>)(payload);
        } catch (error) {
          onListenerError(error, String(name));
        }
      }
    },
  };
}
