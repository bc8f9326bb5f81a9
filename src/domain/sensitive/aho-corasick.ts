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
// table for ASCII.

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
    const trie = buildTrie(keys);
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

  private renumberBreadthFirst(trie: Trie): void {
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
      const first = tail;
      if (old === ROOT) {
        tail = this.placeRootChildren(trie, queue);
        for (let slot = first; slot < tail; slot++) newId[queue[slot]] = slot;
        head++;
        continue;
      }
      for (let child = trie.firstChild[old]; child !== NONE; child = trie.nextSibling[child]) {
        // Insertion sort by edge unit: below the root, nodes have a handful of children at most.
        const unit = trie.unit[child];
        let slot = tail++;
        while (slot > first && this.edgeUnit[slot - 1] > unit) {
          this.edgeUnit[slot] = this.edgeUnit[slot - 1];
          queue[slot] = queue[slot - 1];
          slot--;
        }
        this.edgeUnit[slot] = unit;
        queue[slot] = child;
      }
      for (let slot = first; slot < tail; slot++) newId[queue[slot]] = slot;
      head++;
    }
    this.childStart[trie.nodeCount] = tail;
  }

  /** Puts the root's children, sorted by unit, at 1.., and returns the next free slot. */
  private placeRootChildren(trie: Trie, queue: Int32Array): number {
    // The root can have thousands of children (one per first character of a big Chinese list);
    // a native numeric sort of unit * 2^32 + node is much faster than sorting them by hand.
    const packed: number[] = [];
    for (let child = trie.firstChild[ROOT]; child !== NONE; child = trie.nextSibling[child]) {
      packed.push(trie.unit[child] * 2 ** 32 + child);
    }
    const sorted = Float64Array.from(packed).sort();
    for (let i = 0; i < sorted.length; i++) {
      const child = sorted[i] % 2 ** 32;
      this.edgeUnit[1 + i] = trie.unit[child];
      queue[1 + i] = child;
    }
    return 1 + sorted.length;
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

interface Trie {
  nodeCount: number;
  unit: Uint16Array;
  firstChild: Int32Array;
  nextSibling: Int32Array;
  keyAt: Int32Array;
}

// Children are kept as unsorted sibling lists while inserting (most nodes have one or two), except
// the root's, which can number in the thousands with a big Chinese list and get a map. Sorting
// the keys first would avoid both, but comparing 10 000 CJK strings costs more than this.
function buildTrie(keys: readonly string[]): Trie {
  let capacity = 1;
  for (const key of keys) capacity += key.length;
  const trie: Trie = {
    nodeCount: 1,
    unit: new Uint16Array(capacity),
    firstChild: new Int32Array(capacity).fill(NONE),
    nextSibling: new Int32Array(capacity).fill(NONE),
    keyAt: new Int32Array(capacity).fill(NONE),
  };
  const rootChildren = new Map<number, number>();
  for (let keyIndex = 0; keyIndex < keys.length; keyIndex++) {
    const key = keys[keyIndex];
    let node = ROOT;
    for (let i = 0; i < key.length; i++) {
      const unit = key.charCodeAt(i);
      let child = node === ROOT ? (rootChildren.get(unit) ?? NONE) : trie.firstChild[node];
      if (node !== ROOT) while (child !== NONE && trie.unit[child] !== unit) child = trie.nextSibling[child];
      if (child === NONE) {
        child = trie.nodeCount++;
        trie.unit[child] = unit;
        trie.nextSibling[child] = trie.firstChild[node];
        trie.firstChild[node] = child;
        if (node === ROOT) rootChildren.set(unit, child);
      }
      node = child;
    }
    trie.keyAt[node] = keyIndex;
  }
  return trie;
}
