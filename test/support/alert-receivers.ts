// Real local receivers for the alert sinks: an HTTP listener (the webhook) and an SMTP server
// (smtp-server), each on a free port picked at runtime. Tests take the webhook down and up again
// on the same port, and hold a request or an SMTP transaction open to kill the worker in it.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface WebhookCall {
  at: number;
  path: string;
  key: string | undefined;
  body: Record<string, unknown>;
}

export interface WebhookReceiver {
  url: string;
  /** Every request that arrived whole, answered or not. */
  calls: WebhookCall[];
  /** Stops listening: connections are refused until up(). */
  down(): Promise<void>;
  up(): Promise<void>;
  /** The next request is read and then left unanswered until release() (or its client dies). */
  holdNext(): { arrived: Promise<void>; release(): void };
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const calls: WebhookCall[] = [];
  let hold: { onArrive: () => void; released: Promise<void> } | undefined;
  const handle = async (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const key = req.headers['idempotency-key'];
    calls.push({
      at: Date.now(),
      path: req.url ?? '',
      key: typeof key === 'string' ? key : undefined,
      body: JSON.parse(text),
    });
    const held = hold;
    if (held) {
      hold = undefined;
      held.onArrive();
      await held.released;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  };
  let server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    url: `http://127.0.0.1:${port}/hook`,
    calls,
    down: stop,
    up: async () => {
      server = createServer((req, res) => void handle(req, res));
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    },
    holdNext: () => {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const arrived = new Promise<void>((onArrive) => (hold = { onArrive, released }));
      return { arrived, release };
    },
    close: async () => {
      if (server.listening) await stop();
    },
  };
}

export interface Mail {
  at: number;
  messageId: string | undefined;
  subject: string | undefined;
  key: string | undefined;
  raw: string;
}

export interface SmtpReceiver {
  host: string;
  port: number;
  /** Messages the server accepted (answered the final "." with 250). */
  mails: Mail[];
  /** The next transaction waits at RCPT TO, before any message exists, until release(). */
  holdNext(): { arrived: Promise<void>; release(): void };
  close(): Promise<void>;
}

export async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const mails: Mail[] = [];
  let hold: { onArrive: () => void; released: Promise<void> } | undefined;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      const held = hold;
      if (!held) return callback();
      hold = undefined;
      held.onArrive();
      void held.released.then(() => callback());
    },
    onData(stream, _session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      stream.on('end', () => {
        const header = (name: string) =>
          new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im')
            .exec(raw)?.[1]
            ?.replace(/\r?\n[ \t]+/g, ' ')
            .trim();
        mails.push({
          at: Date.now(),
          messageId: header('Message-ID'),
          subject: header('Subject'),
          key: header('X-Pve-Autopilot-Key'),
          raw,
        });
        callback();
      });
    },
  });
  // A client killed mid-transaction resets its connection: that is what the kill tests do.
  server.on('error', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    mails,
    holdNext: () => {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const arrived = new Promise<void>((onArrive) => (hold = { onArrive, released }));
      return { arrived, release };
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Polls until `check` holds; throws with `what` after timeoutMs. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
