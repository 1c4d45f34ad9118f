//! `fixtures/python/calc.py`'s two recursions, as Python's tools name their
//! members: what every test of a Python recording expects.

/// The evaluator's recursion in `fixtures/python/calc.py`.
pub const EVALUATOR: [&str; 5] = [
    "eval_binop (calc.py)",
    "eval_call (calc.py)",
    "eval_if (calc.py)",
    "eval_let (calc.py)",
    "evaluate (calc.py)",
];

/// The visitor's recursion in `fixtures/python/calc.py`.
pub const VISITOR: [&str; 5] = [
    "Printer.visit (calc.py)",
    "Printer.visit_BinOp (calc.py)",
    "Printer.visit_Call (calc.py)",
    "Printer.visit_If (calc.py)",
    "Printer.visit_Let (calc.py)",
];
