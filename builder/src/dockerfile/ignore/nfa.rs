//! A Thompson NFA for the parsed expressions. Simulating all states at once
//! takes time linear in the path length whatever the pattern (no
//! backtracking blow-up on `*a*a*a*...`), and it lets one pass over a path
//! answer for the path and each of its parent directories.

use super::regex::{Assertion, CharClass, Node};

/// One instruction; the `usize`s are indexes of the next instructions.
#[derive(Debug, Clone)]
enum Inst {
    /// Consume one character from the class, then go on.
    Char(CharClass, usize),
    /// Go on if the assertion holds here.
    Assert(Assertion, usize),
    /// Go on both ways.
    Split(usize, usize),
    /// The expression matched.
    Match,
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub(super) struct Program {
    insts: Vec<Inst>,
    start: usize,
}

/// What follows the current position, for assertions.
#[derive(Debug, Clone, Copy)]
enum Next {
    /// This character.
    Char(char),
    /// The end of the text.
    End,
    /// Not known yet (the text may go on): assume an assertion may hold.
    Unknown,
}

/// The position an assertion is tested at.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    at_start: bool,
    prev: Option<char>,
    next: Next,
}

impl Ctx {
    /// Whether `assertion` holds (or, with an unknown future, may hold).
    fn holds(&self, assertion: Assertion) -> bool {
        let boundary = |next: Option<char>| is_word(self.prev) != is_word(next);
        match (assertion, self.next) {
            (Assertion::BeginText, _) => self.at_start,
            (Assertion::EndText, Next::Char(_)) => false,
            (Assertion::EndText, _) => true,
            (_, Next::Unknown) => true,
            (Assertion::WordBoundary, Next::Char(c)) => boundary(Some(c)),
            (Assertion::WordBoundary, Next::End) => boundary(None),
            (Assertion::NotWordBoundary, Next::Char(c)) => !boundary(Some(c)),
            (Assertion::NotWordBoundary, Next::End) => !boundary(None),
        }
    }
}

/// Go's `\b` word characters: ASCII letters, digits and `_`.
fn is_word(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Program {
    /// Compiles `node` (continuation-passing: each piece is emitted knowing
    /// where to go next, so no patching is needed except for loops).
    pub(super) fn compile(node: &Node) -> Program {
        let mut program = Program {
            insts: vec![Inst::Match],
            start: 0,
        };
        program.start = program.emit(node, 0);
        program
    }

    fn push(&mut self, inst: Inst) -> usize {
        self.insts.push(inst);
        self.insts.len() - 1
    }

    fn emit(&mut self, node: &Node, next: usize) -> usize {
        match node {
            Node::Empty => next,
            Node::Class(class) => self.push(Inst::Char(class.clone(), next)),
            Node::Assert(a) => self.push(Inst::Assert(*a, next)),
            Node::Concat(items) => items
                .iter()
                .rev()
                .fold(next, |after, item| self.emit(item, after)),
            Node::Quest(inner) => {
                let body = self.emit(inner, next);
                self.push(Inst::Split(body, next))
            }
            Node::Star(inner) => {
                let loop_at = self.push(Inst::Split(next, next));
                let body = self.emit(inner, loop_at);
                self.set(loop_at, Inst::Split(body, next));
                loop_at
            }
            Node::Plus(inner) => {
                let loop_at = self.push(Inst::Split(next, next));
                let body = self.emit(inner, loop_at);
                self.set(loop_at, Inst::Split(body, next));
                body
            }
        }
    }

    fn set(&mut self, at: usize, inst: Inst) {
        if let Some(slot) = self.insts.get_mut(at) {
            *slot = inst;
        }
    }

    /// Whether the expression matches `path` itself or one of its parent
    /// directories (every prefix that ends just before a `/`), which is how
    /// BuildKit applies a pattern to a path.
    pub(super) fn matches_path_or_parent(&self, path: &str) -> bool {
        let mut run = Run::new(self);
        let mut chars = path.chars().peekable();
        let mut prev = None;
        loop {
            let next = chars.peek().copied();
            if prev.is_some() && matches!(next, None | Some('/')) && run.accepts_at_end(prev) {
                return true;
            }
            let Some(c) = next else {
                return false;
            };
            if !run.step(prev, c) {
                return false;
            }
            chars.next();
            prev = Some(c);
        }
    }

    /// Whether some text that starts with `prefix` could match: after
    /// reading `prefix`, is any state still alive? Conservative: assertions
    /// that depend on what follows are assumed to hold.
    pub(super) fn may_match_with_prefix(&self, prefix: &str) -> bool {
        let mut run = Run::new(self);
        let mut prev = None;
        for c in prefix.chars() {
            if !run.step(prev, c) {
                return false;
            }
            prev = Some(c);
        }
        let ctx = Ctx {
            at_start: prev.is_none(),
            prev,
            next: Next::Unknown,
        };
        run.closure(ctx);
        !run.live.is_empty()
    }
}

/// The state of one simulation: the states reached by the last character
/// (`kernel`), their closure (`live`), and scratch space.
struct Run<'p> {
    program: &'p Program,
    kernel: Vec<usize>,
    live: Vec<usize>,
    stack: Vec<usize>,
    seen: Vec<u32>,
    generation: u32,
}

impl<'p> Run<'p> {
    fn new(program: &'p Program) -> Run<'p> {
        Run {
            program,
            kernel: vec![program.start],
            live: Vec::new(),
            stack: Vec::new(),
            seen: vec![0; program.insts.len()],
            generation: 0,
        }
    }

    /// Fills `live` with the consuming and accepting states reachable from
    /// the kernel without reading a character, at the position `ctx`.
    fn closure(&mut self, ctx: Ctx) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.seen.iter_mut().for_each(|s| *s = 0);
            self.generation = 1;
        }
        self.live.clear();
        self.stack.clear();
        self.stack.extend(self.kernel.iter().rev());
        while let Some(state) = self.stack.pop() {
            match self.seen.get_mut(state) {
                Some(mark) if *mark != self.generation => *mark = self.generation,
                _ => continue,
            }
            match self.program.insts.get(state) {
                Some(Inst::Split(a, b)) => {
                    self.stack.push(*b);
                    self.stack.push(*a);
                }
                Some(Inst::Assert(a, next)) if ctx.holds(*a) => self.stack.push(*next),
                Some(Inst::Char(..) | Inst::Match) => self.live.push(state),
                _ => {}
            }
        }
    }

    /// Reads `c` (preceded by `prev`); false when no state survives.
    fn step(&mut self, prev: Option<char>, c: char) -> bool {
        let ctx = Ctx {
            at_start: prev.is_none(),
            prev,
            next: Next::Char(c),
        };
        self.closure(ctx);
        self.kernel.clear();
        for &state in &self.live {
            match self.program.insts.get(state) {
                Some(Inst::Char(class, next)) if class.contains(c) => self.kernel.push(*next),
                _ => {}
            }
        }
        !self.kernel.is_empty()
    }

    /// Whether the text read so far (ending after `prev`) is a match.
    fn accepts_at_end(&mut self, prev: Option<char>) -> bool {
        let ctx = Ctx {
            at_start: prev.is_none(),
            prev,
            next: Next::End,
        };
        self.closure(ctx);
        let program = self.program;
        self.live
            .iter()
            .any(|&s| matches!(program.insts.get(s), Some(Inst::Match)))
    }
}

#[cfg(test)]
mod tests {
    use super::Program;
    use crate::dockerfile::ignore::regex::parse;

    fn program(text: &str) -> Program {
        match parse(text) {
            Ok(node) => Program::compile(&node),
            Err(e) => panic!("{text}: {e}"),
        }
    }

    #[test]
    fn whole_path_or_parent() {
        let p = program("^a[^/]*/b$");
        assert!(p.matches_path_or_parent("abc/b"));
        assert!(p.matches_path_or_parent("abc/b/c/d"));
        assert!(!p.matches_path_or_parent("abc/bc"));
        assert!(!p.matches_path_or_parent("a/c/b"));
        let any = program("^(.*/)?x$");
        assert!(any.matches_path_or_parent("x"));
        assert!(any.matches_path_or_parent("a/b/x"));
        assert!(any.matches_path_or_parent("a/b/x/y"));
        assert!(!any.matches_path_or_parent("a/bx"));
        assert!(!any.matches_path_or_parent("a\nb/x"));
    }

    #[test]
    fn prefixes_and_assertions() {
        let p = program("^a/[^/]*\\.txt$");
        assert!(p.may_match_with_prefix("a/"));
        assert!(!p.may_match_with_prefix("b/"));
        assert!(!p.may_match_with_prefix("a/b/"));
        let boundary = program("^foo\\bar$");
        assert!(!boundary.matches_path_or_parent("fooar"));
        let word = program("^a\\b$");
        assert!(word.matches_path_or_parent("a"));
        assert!(word.matches_path_or_parent("a/b"));
    }

    #[test]
    fn no_blowup_on_many_stars() {
        let p = program(&format!("^{}b$", "a[^/]*".repeat(30)));
        assert!(!p.matches_path_or_parent(&"a".repeat(5000)));
    }
}
