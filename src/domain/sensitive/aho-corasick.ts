// A small Aho–Corasick automaton over UTF-16 code units, compiled into flat typed arrays.
//
// Why our own rather than an npm package (modern-ahocorasick and @monyone/aho-corasick are the
// maintained ones): the screen matches folded text with separators removed and then checks word
// boundaries against the original text, so a library would only replace the ~100 lines below
// while we would still keep the offset mapping and the boundary logic; and per-account
// matchers are cached in memory, so a compact layout (about 20 bytes a trie node, no object
// per node) and a fast build matter more than a general API.
//
// Layout: nodes are numbered in breadth-first order, so the children of node n are exactly the
// nodes childStart[n] .. childStart[n + 1] - 1, sorted by the code unit on their incoming edge
// (edgeUnit). Finding a child is a linear scan for small fan-outs and a binary search for
// large ones; the root, which most characters of ordinary text fall back to, also has a direct
// table for ASCII. Building from sorted keys needs no per-node map at all.

const ROOT = 0;
const NONE = -1;
const LINEAR_SCAN_LIMIT = 8;

export class AhoCorasick {
  /** Key index ending exactly at each node, or -1. */
  readonly keyAt: Int32Array;
  /** Nearest node on the failure chain (excluding the node itself) where a key ends, or -1. */
  readonly outputLink: Int32Array;
  private readonly childStart: Int32Array;
  private readonly edgeUnit: Uint16Array;
  private readonly failure: Int32Array;
  private readonly rootAscii: Int32Array;

  /** `keys` must be distinct and non-empty; matches report indices into it. */
  constructor(keys: readonly string[]) {
    const trie = buildSortedTrie(keys);
    const nodeCount = trie.nodeCount;
    this.childStart = new Int32Array(nodeCount + 1);
    this.edgeUnit = new Uint16Array(nodeCount);
    this.keyAt = new Int32Array(nodeCount).fill(NONE);
    this.failure = new Int32Array(nodeCount);
    this.outputLink = new Int32Array(nodeCount).fill(NONE);
    this.rootAscii = new Int32Array(128);
    this.renumberBreadthFirst(trie);
    this.linkFailures(nodeCount);
    for (let c = 0; c < 128; c++) this.rootAscii[c] = Math.max(ROOT, this.findChild(ROOT, c));
  }

  /** The state after reading one code unit. Start from state 0. */
  step(state: number, unit: number): number {
    if (state === ROOT && unit < 128) return this.rootAscii[unit];
    for (;;) {
      const next = this.findChild(state, unit);
      if (next !== NONE) return next;
      if (state === ROOT) return ROOT;
      state = this.failure[state];
    }
  }

  private findChild(node: number, unit: number): number {
    let low = this.childStart[node];
    let high = this.childStart[node + 1];
    const edges = this.edgeUnit;
    if (high - low <= LINEAR_SCAN_LIMIT) {
      for (; low < high; low++) if (edges[low] === unit) return low;
      return NONE;
    }
    while (low < high) {
      const mid = (low + high) >>> 1;
      const found = edges[mid];
      if (found === unit) return mid;
      if (found < unit) low = mid + 1;
      else high = mid;
    }
    return NONE;
  }

  private renumberBreadthFirst(trie: SortedTrie): void {
    const newId = new Int32Array(trie.nodeCount);
    const queue = new Int32Array(trie.nodeCount);
    let head = 0;
    let tail = 1;
    queue[0] = ROOT;
    newId[ROOT] = ROOT;
    while (head < tail) {
      const old = queue[head];
      const id = newId[old];
      this.childStart[id] = tail;
      this.keyAt[id] = trie.keyAt[old];
      for (let child = trie.firstChild[old]; child !== NONE; child = trie.nextSibling[child]) {
        newId[child] = tail;
        this.edgeUnit[tail] = trie.unit[child];
        queue[tail++] = child;
      }
      head++;
    }
    this.childStart[trie.nodeCount] = tail;
  }

  private linkFailures(nodeCount: number): void {
    // Breadth-first order means a node's failure link is known before its children need it.
    for (let node = 0; node < nodeCount; node++) {
      for (let child = this.childStart[node]; child < this.childStart[node + 1]; child++) {
        let target = ROOT;
        if (node !== ROOT) {
          const unit = this.edgeUnit[child];
          for (let fallback = this.failure[node]; ; fallback = this.failure[fallback]) {
            const next = this.findChild(fallback, unit);
            if (next !== NONE) {
              target = next;
              break;
            }
            if (fallback === ROOT) break;
          }
        }
        this.failure[child] = target;
        this.outputLink[child] = this.keyAt[target] !== NONE ? target : this.outputLink[target];
      }
    }
  }
}

interface SortedTrie {
  nodeCount: number;
  unit: Uint16Array;
  firstChild: Int32Array;
  nextSibling: Int32Array;
  keyAt: Int32Array;
}

// Inserting keys in code-unit order means the child to follow, if it exists, is always the most
// recently added child of the current node, so no lookup structure is needed while building.
function buildSortedTrie(keys: readonly string[]): SortedTrie {
  const order = keys.map((_, index) => index).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0));
  let capacity = 1;
  for (const key of keys) capacity += key.length;
  const trie: SortedTrie = {
    nodeCount: 1,
    unit: new Uint16Array(capacity),
    firstChild: new Int32Array(capacity).fill(NONE),
    nextSibling: new Int32Array(capacity).fill(NONE),
    keyAt: new Int32Array(capacity).fill(NONE),
  };
  const lastChild = new Int32Array(capacity).fill(NONE);
  for (const keyIndex of order) {
    const key = keys[keyIndex];
    let node = ROOT;
    for (let i = 0; i < key.length; i++) {
      const unit = key.charCodeAt(i);
      const last = lastChild[node];
      if (last !== NONE && trie.unit[last] === unit) {
        node = last;
        continue;
      }
      const child = trie.nodeCount++;
      trie.unit[child] = unit;
      if (last === NONE) trie.firstChild[node] = child;
      else trie.nextSibling[last] = child;
      lastChild[node] = child;
      node = child;
    }
    trie.keyAt[node] = keyIndex;
  }
  return trie;
}
