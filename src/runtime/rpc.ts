/**
 * One request/response + event helper for every message channel: host<->webview and host<->worker alike
 * (after vscode-hexeditor's MessageHandler). Messages are discriminated by `type`; a request carries an
 * `id` and its response the same `id`. Typed arrays travel as they are (structured clone / transfer).
 */
export interface RequestEnvelope<T = unknown> { kind: 'request'; id: number; type: string; payload: T }
export interface ResponseEnvelope<T = unknown> { kind: 'response'; id: number; ok: boolean; payload?: T; error?: string }
export interface EventEnvelope<T = unknown> { kind: 'event'; type: string; payload: T }
export type Envelope = RequestEnvelope | ResponseEnvelope | EventEnvelope;

/** A map from message type to [request payload, response payload]. */
export type RequestMap = Record<string, [unknown, unknown]>;
/** A map from event type to payload. */
export type EventMap = Record<string, unknown>;

export function isEnvelope(m: unknown): m is Envelope {
  if (typeof m !== 'object' || m === null) return false;
  const k = (m as { kind?: unknown }).kind;
  return (k === 'request' || k === 'event') ? typeof (m as { type?: unknown }).type === 'string'
    : k === 'response' && typeof (m as { id?: unknown }).id === 'number';
}

/**
 * Both ends of a channel. `post` sends an envelope (webview.postMessage, worker.postMessage, ...);
 * feed every received message to `receive`. `Out*` are what this end sends, `In*` what it answers/receives.
 */
export class MessageHandler<OutReq extends RequestMap, OutEv extends EventMap, InReq extends RequestMap, InEv extends EventMap> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly requestHandlers = new Map<string, (payload: unknown) => unknown>();
  private readonly eventHandlers = new Map<string, Set<(payload: unknown) => void>>();

  constructor(private readonly post: (msg: Envelope, transfer?: Transferable[]) => void) {}

  request<K extends keyof OutReq & string>(type: K, payload: OutReq[K][0], transfer?: Transferable[]): Promise<OutReq[K][1]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post({ kind: 'request', id, type, payload }, transfer);
    });
  }

  event<K extends keyof OutEv & string>(type: K, payload: OutEv[K], transfer?: Transferable[]): void {
    this.post({ kind: 'event', type, payload }, transfer);
  }

  onRequest<K extends keyof InReq & string>(type: K, handler: (payload: InReq[K][0]) => InReq[K][1] | Promise<InReq[K][1]>): void {
    this.requestHandlers.set(type, handler as (p: unknown) => unknown);
  }

  onEvent<K extends keyof InEv & string>(type: K, handler: (payload: InEv[K]) => void): () => void {
    let set = this.eventHandlers.get(type);
    if (!set) this.eventHandlers.set(type, (set = new Set()));
    set.add(handler as (p: unknown) => void);
    return () => set!.delete(handler as (p: unknown) => void);
  }

  /** Handles one incoming message; returns false if it was not an envelope (the caller may report it). */
  async receive(msg: unknown): Promise<boolean> {
    if (!isEnvelope(msg)) return false;
    if (msg.kind === 'response') {
      const p = this.pending.get(msg.id);
      if (!p) return true;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.payload);
      else p.reject(new Error(msg.error ?? 'request failed'));
      return true;
    }
    if (msg.kind === 'event') {
      for (const h of this.eventHandlers.get(msg.type) ?? []) h(msg.payload);
      return true;
    }
    const handler = this.requestHandlers.get(msg.type);
    if (!handler) {
      this.post({ kind: 'response', id: msg.id, ok: false, error: `unknown request '${msg.type}'` });
      return true;
    }
    try {
      const payload = await handler(msg.payload);
      this.post({ kind: 'response', id: msg.id, ok: true, payload });
    } catch (e) {
      this.post({ kind: 'response', id: msg.id, ok: false, error: e instanceof Error ? e.message.split('\n')[0] : String(e) });
    }
    return true;
  }

  /** Rejects every pending request (the other end went away). */
  dispose(reason = 'channel closed'): void {
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
  }
}
