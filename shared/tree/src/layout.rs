//! A tidy-tree layout: Walker's algorithm in Buchheim, Jünger and Leipert's linear-time form
//! (the old server's `reingold_tilford.py`). Siblings and neighbouring subtrees sit at least
//! [`DISTANCE`] apart at every depth, a parent is centred over its first and last child,
//! identical subtrees are drawn identically, and `y = depth * V_SPACING`. Iterative, so deep
//! trees cannot overflow the stack.

use super::Tree;

/// Minimum horizontal gap between neighbours at the same depth.
pub const DISTANCE: f64 = 100.0;
/// Vertical gap between depths.
pub const V_SPACING: f64 = 150.0;

const NONE: usize = usize::MAX;

struct Work<'a, F: Fn(usize) -> &'a [usize]> {
    children: F,
    parent: Vec<usize>,
    number: Vec<usize>,
    prelim: Vec<f64>,
    modifier: Vec<f64>,
    shift: Vec<f64>,
    change: Vec<f64>,
    thread: Vec<usize>,
    ancestor: Vec<usize>,
    _marker: std::marker::PhantomData<&'a ()>,
}

impl<'a, F: Fn(usize) -> &'a [usize]> Work<'a, F> {
    fn kids(&self, v: usize) -> &'a [usize] {
        (self.children)(v)
    }

    fn left_sibling(&self, v: usize) -> usize {
        let p = self.parent[v];
        if p == NONE || self.number[v] == 0 {
            NONE
        } else {
            self.kids(p)[self.number[v] - 1]
        }
    }

    fn leftmost_sibling(&self, v: usize) -> usize {
        let p = self.parent[v];
        if p == NONE || self.number[v] == 0 {
            NONE
        } else {
            self.kids(p)[0]
        }
    }

    fn next_left(&self, v: usize) -> usize {
        self.kids(v).first().copied().unwrap_or(self.thread[v])
    }

    fn next_right(&self, v: usize) -> usize {
        self.kids(v).last().copied().unwrap_or(self.thread[v])
    }

    fn move_subtree(&mut self, wl: usize, wr: usize, s: f64) {
        let n = self.number[wr] as f64 - self.number[wl] as f64;
        if n > 0.0 {
            self.change[wr] -= s / n;
            self.shift[wr] += s;
            self.change[wl] += s / n;
            self.prelim[wr] += s;
            self.modifier[wr] += s;
        }
    }

    fn execute_shifts(&mut self, v: usize) {
        let (mut shift, mut change) = (0.0, 0.0);
        for &w in self.kids(v).iter().rev() {
            self.prelim[w] += shift;
            self.modifier[w] += shift;
            change += self.change[w];
            shift += self.shift[w] + change;
        }
    }

    fn apportion(&mut self, v: usize, default_ancestor: usize) -> usize {
        let w = self.left_sibling(v);
        if w == NONE {
            return default_ancestor;
        }
        let mut default_ancestor = default_ancestor;
        let (mut vip, mut vop, mut vim, mut vom) = (v, v, w, self.leftmost_sibling(v));
        let mut sip = self.modifier[vip];
        let mut sop = self.modifier[vop];
        let mut sim = self.modifier[vim];
        let mut som = self.modifier[vom];
        loop {
            let nr = self.next_right(vim);
            let nl = self.next_left(vip);
            if nr == NONE || nl == NONE {
                break;
            }
            vim = nr;
            vip = nl;
            vom = if vom == NONE {
                NONE
            } else {
                self.next_left(vom)
            };
            vop = self.next_right(vop);
            self.ancestor[vop] = v;
            let shift = (self.prelim[vim] + sim) - (self.prelim[vip] + sip) + DISTANCE;
            if shift > 0.0 {
                let a = if self.parent[self.ancestor[vim]] == self.parent[v] {
                    self.ancestor[vim]
                } else {
                    default_ancestor
                };
                self.move_subtree(a, v, shift);
                sip += shift;
                sop += shift;
            }
            sim += self.modifier[vim];
            sip += self.modifier[vip];
            if vom != NONE {
                som += self.modifier[vom];
            }
            sop += self.modifier[vop];
        }
        let nr = self.next_right(vim);
        if nr != NONE && self.next_right(vop) == NONE {
            self.thread[vop] = nr;
            self.modifier[vop] += sim - sop;
        }
        let nl = self.next_left(vip);
        if vom == NONE {
            default_ancestor = v;
        } else if nl != NONE && self.next_left(vom) == NONE {
            self.thread[vom] = nl;
            self.modifier[vom] += sip - som;
            default_ancestor = v;
        }
        default_ancestor
    }

    /// Post-order first walk, in the recursive algorithm's exact order: a child is walked,
    /// then apportioned, before its right sibling is walked.
    fn first_walk(&mut self, root: usize) {
        // (node, next child to walk, default ancestor)
        let mut stack: Vec<(usize, usize, usize)> = vec![(root, 0, NONE)];
        while let Some(&mut (v, ref mut next, ref mut default_ancestor)) = stack.last_mut() {
            let kids = self.kids(v);
            if *next < kids.len() {
                if *next == 0 {
                    *default_ancestor = kids[0];
                }
                let child = kids[*next];
                *next += 1;
                stack.push((child, 0, NONE));
                continue;
            }
            stack.pop();
            let w = self.left_sibling(v);
            if kids.is_empty() {
                self.prelim[v] = if w == NONE {
                    0.0
                } else {
                    self.prelim[w] + DISTANCE
                };
            } else {
                self.execute_shifts(v);
                let first = kids[0];
                let last = kids[kids.len() - 1];
                let midpoint = (self.prelim[first] + self.prelim[last]) / 2.0;
                if w == NONE {
                    self.prelim[v] = midpoint;
                } else {
                    self.prelim[v] = self.prelim[w] + DISTANCE;
                    self.modifier[v] = self.prelim[v] - midpoint;
                }
            }
            if let Some(parent) = stack.last_mut() {
                let da = parent.2;
                parent.2 = self.apportion(v, da);
            }
        }
    }
}

/// Positions `[x, y]` of the `n` nodes of the tree rooted at `root`, whose children are
/// `children(v)` (ordered left to right). The root sits at `[0, 0]`; nodes not reachable
/// from the root stay at `[0, 0]`.
pub fn tidy<'a>(n: usize, root: usize, children: impl Fn(usize) -> &'a [usize]) -> Vec<[f64; 2]> {
    let mut work = Work {
        children,
        parent: vec![NONE; n],
        number: vec![0; n],
        prelim: vec![0.0; n],
        modifier: vec![0.0; n],
        shift: vec![0.0; n],
        change: vec![0.0; n],
        thread: vec![NONE; n],
        ancestor: (0..n).collect(),
        _marker: std::marker::PhantomData,
    };
    let mut out = vec![[0.0, 0.0]; n];
    if root >= n {
        return out;
    }
    let mut order = vec![root];
    let mut i = 0;
    while i < order.len() {
        let v = order[i];
        for (k, &c) in work.kids(v).iter().enumerate() {
            work.parent[c] = v;
            work.number[c] = k;
            order.push(c);
        }
        i += 1;
    }
    work.first_walk(root);

    // Second walk (pre-order): x = prelim + the sum of the ancestors' modifiers.
    let mut stack: Vec<(usize, f64, usize)> = vec![(root, -work.prelim[root], 0)];
    while let Some((v, modsum, depth)) = stack.pop() {
        out[v] = [work.prelim[v] + modsum, depth as f64 * V_SPACING];
        let below = modsum + work.modifier[v];
        for &c in work.kids(v) {
            stack.push((c, below, depth + 1));
        }
    }
    out
}

impl Tree {
    /// The tidy layout of this tree, indexed like [`Tree::nodes`].
    pub fn layout(&self) -> Vec<[f64; 2]> {
        tidy(self.nodes.len(), 0, |v| self.nodes[v].children.as_slice())
    }
}
