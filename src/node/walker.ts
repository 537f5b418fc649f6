// Picks the Walker for the command line and the extension: the native helper when it can be found or built,
// otherwise pure Node. A helper that dies later is replaced by the Node walker for the rest of the session, so
// a scan never fails just because the fast path did.

import { NodeWalker } from '../core/nodewalk';
import type { ReadRequest, ReadResult, WalkRequest, WalkResult, Walker } from '../core/walk';
import { NativeWalker, NativeWalkerError, findNativeWalker } from './native';

export interface CreateWalkerOptions {
  /** The cargo used to build the helper (default: `$CARGO`, else `cargo` from PATH). */
  readonly cargo?: string;
  /** Cache folder for built helpers (default: the per-user cache, see defaultCacheDir in ./native). */
  readonly cacheDir?: string;
  /**
   * Build the helper if no build for the current sources is cached (default true). The build runs in the
   * helper's own source folder with `--offline`; nothing of the scanned workspace is involved.
   */
  readonly build?: boolean;
  readonly log?: (line: string) => void;
}

export async function createWalker(opts: CreateWalkerOptions = {}): Promise<Walker> {
  const log = opts.log ?? (() => undefined);
  let binary: string | null = null;
  try {
    binary = await findNativeWalker({ cargo: opts.cargo, cacheDir: opts.cacheDir, build: opts.build ?? true, log });
  } catch (e) {
    log(`native walker unavailable: ${(e as Error).message}`);
  }
  return binary ? new FallbackWalker(new NativeWalker(binary), log) : new NodeWalker();
}

/** The native walker until it fails, then the Node walker; a failed call is retried once with Node. */
class FallbackWalker implements Walker {
  private current: Walker;

  constructor(
    private readonly native: NativeWalker,
    private readonly log: (line: string) => void,
  ) {
    this.current = native;
  }

  get name(): string {
    return this.current.name;
  }

  walk(requests: readonly WalkRequest[]): Promise<WalkResult[]> {
    return this.withFallback((w) => w.walk(requests));
  }

  read(requests: readonly ReadRequest[]): Promise<ReadResult[]> {
    return this.withFallback((w) => w.read(requests));
  }

  close(): void {
    this.current.close();
    if (this.current !== this.native) this.native.close();
  }

  ended(): Promise<void> {
    return this.native.ended();
  }

  private async withFallback<T>(f: (w: Walker) => Promise<T>): Promise<T> {
    const w = this.current;
    try {
      return await f(w);
    } catch (e) {
      // Only a broken helper is worth a retry; a closed walker stays closed.
      if (w !== this.native || !(e instanceof NativeWalkerError) || e.closed) throw e;
      if (this.current === this.native) {
        this.log(`${e.message}; continuing with the Node walker`);
        this.current = new NodeWalker();
        this.native.close();
      }
      return f(this.current);
    }
  }
}
