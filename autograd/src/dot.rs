//! The recorded graph as Graphviz DOT, for teaching and debugging.

use std::collections::HashSet;
use std::fmt::Write;

use crate::element::Element;
use crate::tensor::Tensor;

impl<T: Element> Tensor<T> {
    /// The graph that computed this tensor, in Graphviz's DOT language: one box per op
    /// (name and output shape) and per leaf, arrows from inputs to the ops that used them.
    /// Render it with `dot -Tpng graph.dot -o graph.png`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let w = Tensor::<f32>::ones(&[2, 2]).requires_grad();
    /// let x = Tensor::<f32>::ones(&[1, 2]);
    /// let dot = x.matmul(&w).relu().to_dot();
    /// assert!(dot.contains("matmul\\n[1, 2]") && dot.contains("parameter\\n[2, 2]"));
    /// ```
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph tapegrad {\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\"];\n");
        let mut seen = HashSet::new();
        let mut stack = vec![self.clone()];
        seen.insert(self.id());
        while let Some(t) = stack.pop() {
            let style = match (t.is_leaf(), t.is_parameter()) {
                (false, _) => "",
                (true, true) => ", style=filled, fillcolor=\"#cde4ff\"",
                (true, false) => ", style=filled, fillcolor=\"#eeeeee\"",
            };
            let _ = writeln!(out, "  n{} [label=\"{}\\n{:?}\"{style}];", t.id(), t.op_name(), t.shape());
            if let Some(node) = &t.inner.node {
                for input in &node.inputs() {
                    let _ = writeln!(out, "  n{} -> n{};", input.id(), t.id());
                    if seen.insert(input.id()) {
                        stack.push(input.clone());
                    }
                }
            }
        }
        out.push_str("}\n");
        out
    }
}
