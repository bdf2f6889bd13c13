//! The timeline page (`--html FILE`): one self-contained HTML file, no network access, with
//! the runs' [`Timeline`]s embedded as JSON and a small inline script (`page.js`) drawing
//! them as SVG. The embedded data is the page's single source: tests read it back.

use super::{escape_xml, Timeline};

const SCRIPT: &str = include_str!("page.js");

const STYLE: &str = "
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #263238; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; } h3 { font-size: 13px; }
pre.replay { background: #eceff1; padding: 6px; white-space: pre-wrap; }
details.group { margin: 6px 0; } summary { cursor: pointer; font-weight: 600; }
svg.lane { display: block; }
table { border-collapse: collapse; margin: 4px 0 12px; }
td, th { border: 1px solid #cfd8dc; padding: 2px 8px; text-align: left; }
.legend span { display: inline-block; margin-right: 12px; }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; }
";

const LEGEND: &[(&str, &str)] = &[
    ("ok", "#4caf50"),
    ("changed", "#ffb300"),
    ("failed", "#e53935"),
    ("skipped", "#90a4ae"),
    ("app up", "#66bb6a"),
    ("starting", "#ba68c8"),
    ("unhealthy", "#fb8c00"),
    ("down", "#b71c1c"),
    ("in pool", "#43a047"),
    ("draining", "#fdd835"),
    ("out of pool", "#cfd8dc"),
    ("failed requests", "#e53935"),
];

/// The JSON of the runs, safe inside a `<script>` element (no `</script>` can close it).
pub fn embedded_json(runs: &[Timeline]) -> String {
    serde_json::to_string(runs)
        .unwrap_or_else(|_| "[]".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The page for `runs` (one for a playbook, a lab's steps in order).
pub fn render(title: &str, runs: &[Timeline]) -> String {
    let mut legend = String::new();
    for (name, color) in LEGEND {
        legend.push_str(&format!(
            "<span><i style=\"background:{color}\"></i>{name}</span>"
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>{title}</h1>\n<p class=\"legend\">{legend}<span><i style=\"background:#b0bec5\"></i>fault window (hatched)</span>\
         <span><i style=\"background:#d50000\"></i>invariant violation</span></p>\n\
         <svg width=\"0\" height=\"0\" style=\"position:absolute\"><defs>\
         <pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
         <rect width=\"3\" height=\"6\" fill=\"#b0bec5\"/></pattern></defs></svg>\n\
         <div id=\"runs\"></div>\n\
         <script type=\"application/json\" id=\"fleetsim-data\">{data}</script>\n\
         <script>{SCRIPT}</script>\n</body>\n</html>\n",
        title = escape_xml(title),
        data = embedded_json(runs),
    )
}

/// Reads the embedded runs back out of a page.
#[cfg(test)]
pub fn extract_data(page: &str) -> Option<serde_json::Value> {
    let start_tag = "<script type=\"application/json\" id=\"fleetsim-data\">";
    let start = page.find(start_tag)? + start_tag.len();
    let end = start + page[start..].find("</script>")?;
    serde_json::from_str(&page[start..end]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_embeds_the_runs_and_no_network_reference() {
        let mut r = crate::report::tests::record();
        r.title = "a </script> title".into();
        let t = Timeline::from_record(&r);
        let page = render("run", &[t]);
        let data = extract_data(&page).expect("embedded data");
        assert_eq!(data[0]["title"], "a </script> title");
        assert_eq!(data[0]["hosts"][0]["app"][1]["state"], "starting");
        assert!(!page.contains(" src="));
        assert!(!page.contains("<link"));
    }
}
