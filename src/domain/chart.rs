//! Bar charts laid out on the server: the geometry of each bar in a fixed
//! coordinate box, which the template draws as inline SVG. No script, and
//! every bar carries its value as text too, so nothing depends on reading
//! a bar's length.

/// One value to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub label: String,
    pub value: f64,
    /// The value as printed next to the bar ("64 %", "12").
    pub shown: String,
}

/// A bar, placed.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub label: String,
    pub shown: String,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// Where its label and value go.
    pub label_x: f64,
    pub label_y: f64,
    pub value_x: f64,
    pub value_y: f64,
}

/// A laid-out chart: its box and its bars.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub width: f64,
    pub height: f64,
    pub bars: Vec<Bar>,
    /// Ticks across a column (a distribution's 90th percentile).
    pub marks: Vec<Mark>,
}

/// A horizontal tick across a column, with its value written beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub x1: f64,
    pub x2: f64,
    pub y: f64,
    pub shown: String,
}

/// One distribution to draw: a column up to its median and a tick at its
/// 90th percentile, both printed.
#[derive(Clone, Debug, PartialEq)]
pub struct Spread {
    pub label: String,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub median_shown: String,
    pub p90_shown: String,
}

impl Chart {
    pub fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }

    /// The `viewBox` attribute.
    pub fn view_box(&self) -> String {
        format!("0 0 {} {}", self.width, self.height)
    }
}

const WIDTH: f64 = 360.0;
/// Room for the labels under columns and the values above them.
const LABEL_ROOM: f64 = 22.0;
const VALUE_ROOM: f64 = 18.0;

/// Vertical bars, left to right, scaled to `max` (or to the largest value
/// when `max` is `None`).
pub fn columns(points: &[Point], max: Option<f64>) -> Chart {
    let height = 180.0;
    let top = scale_top(points, max);
    let slot = WIDTH / points.len().max(1) as f64;
    let plot = height - LABEL_ROOM - VALUE_ROOM;
    let bars = points
        .iter()
        .enumerate()
        .map(|(index, point)| {
            let bar_height = (point.value.max(0.0) / top * plot).min(plot);
            let x = index as f64 * slot + slot * 0.15;
            let y = VALUE_ROOM + plot - bar_height;
            Bar {
                label: point.label.clone(),
                shown: point.shown.clone(),
                x: round(x),
                y: round(y),
                width: round(slot * 0.7),
                height: round(bar_height),
                label_x: round(index as f64 * slot + slot / 2.0),
                label_y: height - 6.0,
                value_x: round(index as f64 * slot + slot / 2.0),
                value_y: round(y - 5.0),
            }
        })
        .collect();
    Chart {
        width: WIDTH,
        height,
        bars,
        marks: Vec::new(),
    }
}

/// Distributions, left to right: each column reaches its median and a tick
/// marks its 90th percentile, on one scale (the largest 90th percentile).
/// A period with no value draws no column.
pub fn spreads(spreads: &[Spread]) -> Chart {
    let top = spreads
        .iter()
        .filter_map(|s| s.p90.or(s.median))
        .fold(0.0, f64::max);
    let points: Vec<Point> = spreads
        .iter()
        .map(|s| Point {
            label: s.label.clone(),
            value: s.median.unwrap_or(0.0),
            shown: s.median_shown.clone(),
        })
        .collect();
    let mut chart = columns(&points, Some(top.max(1.0)));
    let plot = chart.height - LABEL_ROOM - VALUE_ROOM;
    let scale = top.max(1.0);
    chart.marks = chart
        .bars
        .iter()
        .zip(spreads)
        .filter_map(|(bar, spread)| {
            let p90 = spread.p90?;
            let y = VALUE_ROOM + plot - (p90.max(0.0) / scale * plot).min(plot);
            Some(Mark {
                x1: bar.x,
                x2: round(bar.x + bar.width),
                y: round(y),
                shown: spread.p90_shown.clone(),
            })
        })
        .collect();
    // The median's value goes inside the column when a tick sits above it.
    for (bar, mark) in chart.bars.iter_mut().zip(&chart.marks) {
        if (bar.y - mark.y).abs() < 14.0 {
            bar.value_y = round(mark.y - 5.0);
            bar.shown = format!("{} · {}", bar.shown, mark.shown);
        }
    }
    chart
}

/// Horizontal bars, top to bottom, with labels on the left.
pub fn rows(points: &[Point]) -> Chart {
    let row = 24.0;
    let label_width = 110.0;
    let value_room = 36.0;
    let top = scale_top(points, None);
    let plot = WIDTH - label_width - value_room;
    let bars = points
        .iter()
        .enumerate()
        .map(|(index, point)| {
            let y = index as f64 * row + 4.0;
            let bar_width = (point.value.max(0.0) / top * plot).min(plot);
            Bar {
                label: point.label.clone(),
                shown: point.shown.clone(),
                x: label_width,
                y,
                width: round(bar_width),
                height: row - 8.0,
                label_x: label_width - 8.0,
                label_y: y + 12.0,
                value_x: round(label_width + bar_width + 6.0),
                value_y: y + 12.0,
            }
        })
        .collect();
    Chart {
        width: WIDTH,
        height: (points.len() as f64 * row).max(row),
        bars,
        marks: Vec::new(),
    }
}

/// The value at the top of the scale: never zero, so empty charts draw.
fn scale_top(points: &[Point], max: Option<f64>) -> f64 {
    max.unwrap_or_else(|| points.iter().map(|p| p.value).fold(0.0, f64::max))
        .max(1.0)
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(label: &str, value: f64) -> Point {
        Point {
            label: label.to_owned(),
            value,
            shown: value.to_string(),
        }
    }

    #[test]
    fn columns_scale_to_the_given_maximum() {
        let chart = columns(
            &[point("a", 50.0), point("b", 100.0), point("c", 0.0)],
            Some(100.0),
        );
        let heights: Vec<f64> = chart.bars.iter().map(|b| b.height).collect();
        let plot = chart.height - LABEL_ROOM - VALUE_ROOM;
        assert_eq!(heights, vec![plot / 2.0, plot, 0.0]);
        // Bars stand on the same baseline and do not overlap.
        assert!(
            chart
                .bars
                .iter()
                .all(|b| (b.y + b.height - (VALUE_ROOM + plot)).abs() < 0.2)
        );
        assert!(chart.bars[0].x + chart.bars[0].width < chart.bars[1].x);
        assert_eq!(chart.view_box(), "0 0 360 180");
    }

    #[test]
    fn rows_scale_to_the_largest_value_and_grow_with_their_count() {
        let chart = rows(&[point("Payments", 4.0), point("Platform", 2.0)]);
        assert_eq!(chart.bars[0].width, 2.0 * chart.bars[1].width);
        assert_eq!(chart.height, 48.0);
        assert!(chart.bars[1].y > chart.bars[0].y);
    }

    #[test]
    fn a_spread_has_its_column_at_the_median_and_its_tick_at_the_90th_percentile() {
        let spread = |label: &str, median: Option<f64>, p90: Option<f64>| Spread {
            label: label.to_owned(),
            median,
            p90,
            median_shown: format!("{median:?}"),
            p90_shown: format!("{p90:?}"),
        };
        let chart = spreads(&[
            spread("Q1", Some(10.0), Some(40.0)),
            spread("Q2", Some(20.0), Some(20.0)),
            spread("Q3", None, None),
        ]);
        let plot = chart.height - LABEL_ROOM - VALUE_ROOM;
        assert_eq!(chart.bars[0].height, round(plot / 4.0));
        assert_eq!(chart.marks.len(), 2);
        assert_eq!(chart.marks[0].y, VALUE_ROOM);
        assert_eq!(chart.bars[2].height, 0.0);
        // Where the tick meets the column's top, the values share a line.
        assert!(chart.bars[1].shown.contains('·'));
    }

    #[test]
    fn an_empty_or_all_zero_chart_still_lays_out() {
        assert!(columns(&[], None).is_empty());
        let chart = rows(&[point("a", 0.0)]);
        assert_eq!(chart.bars[0].width, 0.0);
    }
}
