//! A progress bar on the terminal: `epoch 3/12 [=====>     ] 210/469 loss 0.1234 (52.1/s, 5s)`.
//!
//! Drawn on stderr, at most ten times a second, and only when stderr is a terminal: output
//! piped to a file or read by a script stays free of carriage returns. (A few lines of our
//! own instead of a crate: it kept five crates out of every build.)

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Counts steps towards a known total and shows how far along, how fast and how long is left.
///
/// ```
/// use tapegrad::ProgressBar;
/// let mut bar = ProgressBar::new(3).prefix("epoch 1/1");
/// for step in 0..3 {
///     bar.set_message(format!("loss {:.2}", 1.0 / (step + 1) as f64));
///     bar.inc(1);
/// }
/// assert_eq!(bar.position(), 3);
/// bar.finish_and_clear();
/// ```
pub struct ProgressBar {
    total: u64,
    position: u64,
    prefix: String,
    message: String,
    start: Instant,
    last_draw: Option<Instant>,
    visible: bool,
}

/// Redraw at most this often.
const REDRAW: Duration = Duration::from_millis(100);
/// Characters of the bar between the brackets.
const WIDTH: u64 = 30;

impl ProgressBar {
    /// A bar for `total` steps, shown if stderr is a terminal.
    pub fn new(total: u64) -> Self {
        ProgressBar {
            total,
            position: 0,
            prefix: String::new(),
            message: String::new(),
            start: Instant::now(),
            last_draw: None,
            visible: std::io::stderr().is_terminal(),
        }
    }

    /// Text before the bar, such as `epoch 3/12`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Text after the counts, such as the running loss.
    pub fn set_message(&mut self, message: impl Into<String>) {
        self.message = message.into();
    }

    /// Steps done so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Advances by `steps`, redrawing if the last drawing is old enough (or this is the last step).
    pub fn inc(&mut self, steps: u64) {
        self.position = (self.position + steps).min(self.total);
        let due = self.last_draw.is_none_or(|t| t.elapsed() >= REDRAW) || self.position == self.total;
        if self.visible && due {
            self.draw();
        }
    }

    /// Draws the bar one last time and moves to the next line.
    pub fn finish(mut self) {
        if self.visible {
            self.draw();
            eprintln!();
        }
    }

    /// Erases the bar (for a summary line to take its place).
    pub fn finish_and_clear(self) {
        if self.visible {
            eprint!("\r\x1b[2K");
        }
    }

    /// The bar's text, as drawn (without the carriage return that redraws it in place).
    ///
    /// ```
    /// use tapegrad::ProgressBar;
    /// let mut bar = ProgressBar::new(4).prefix("epoch 1/3");
    /// bar.inc(2);
    /// assert!(bar.line().starts_with("epoch 1/3 [===============>              ] 2/4 ("));
    /// bar.finish(); // draws once more and ends the line (on a terminal only)
    /// ```
    pub fn line(&self) -> String {
        let filled = (self.position * WIDTH).checked_div(self.total).unwrap_or(WIDTH);
        let mut bar = "=".repeat(filled as usize);
        if filled < WIDTH {
            bar.push('>');
            bar += &" ".repeat((WIDTH - filled - 1) as usize);
        }
        let seconds = self.start.elapsed().as_secs_f64();
        let rate = self.position as f64 / seconds.max(1e-9);
        let left = (self.total - self.position) as f64 / rate.max(1e-9);
        let mut line = String::new();
        if !self.prefix.is_empty() {
            line = format!("{} ", self.prefix);
        }
        line += &format!("[{bar}] {}/{}", self.position, self.total);
        if !self.message.is_empty() {
            line += &format!(" {}", self.message);
        }
        if self.position > 0 {
            line += &format!(" ({rate:.1}/s, {:.0}s)", left.min(1e9));
        }
        line
    }

    fn draw(&mut self) {
        self.last_draw = Some(Instant::now());
        let mut err = std::io::stderr().lock();
        // A bar that cannot be drawn is not worth stopping the training for.
        let _ = write!(err, "\r\x1b[2K{}", self.line()).and_then(|()| err.flush());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_the_fraction_done_and_the_message() {
        let mut bar = ProgressBar::new(10).prefix("epoch 2/5");
        assert_eq!(bar.line(), format!("epoch 2/5 [>{}] 0/10", " ".repeat(29)));
        bar.inc(4);
        bar.set_message("loss 0.5000");
        let line = bar.line();
        assert!(
            line.starts_with(&format!("epoch 2/5 [{}>{}] 4/10 loss 0.5000 (", "=".repeat(12), " ".repeat(17))),
            "{line}"
        );
        assert!(line.ends_with("s)"), "{line}");
        bar.inc(100); // past the end: stops at the total
        assert_eq!(bar.position(), 10);
        assert!(bar.line().starts_with(&format!("epoch 2/5 [{}] 10/10", "=".repeat(30))));
    }

    #[test]
    fn an_empty_total_draws_a_full_bar() {
        let bar = ProgressBar::new(0);
        assert_eq!(bar.line(), format!("[{}] 0/0", "=".repeat(30)));
    }
}
