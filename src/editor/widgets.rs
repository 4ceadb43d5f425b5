//! The editor's parameter widgets, written once: a slider that shows its value with its unit
//! and its description as a tooltip (double-click or Ctrl+click resets it to its default), a
//! switch with an accessible name, and the one gesture helper every discrete change uses.

use std::collections::HashMap;
use std::sync::OnceLock;

use nice_plug::prelude::{BoolParam, Param, ParamSetter, Params};
use nice_plug_egui::widgets::ParamSlider;

use crate::params::{description, FluxForgeParams};

/// Descriptions by parameter name (the editor holds parameters, not their IDs).
fn by_name(name: &str) -> &'static str {
    static TABLE: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            FluxForgeParams::default()
                .param_map()
                .into_iter()
                // SAFETY: `ptr` points into the `FluxForgeParams` temporary, which lives until
                // the end of this statement.
                .map(|(id, ptr, _)| (unsafe { ptr.name() }.to_string(), description(&id)))
                .collect()
        })
        .get(name)
        .copied()
        .unwrap_or("")
}

/// The tooltip of `p`: its description, its value and its default.
fn tooltip<P: Param>(p: &P) -> String {
    format!(
        "{}: {}\n{} (default {}; double-click resets)",
        p.name(),
        by_name(p.name()),
        p,
        p.normalized_value_to_string(p.default_normalized_value(), true)
    )
}

/// One host gesture setting `p` to `v`.
pub fn set<P: Param>(setter: &ParamSetter, p: &P, v: P::Plain) {
    setter.begin_set_parameter(p);
    setter.set_parameter(p, v);
    setter.end_set_parameter(p);
}

/// A slider for `p`, `width` points wide, with its tooltip.
pub fn slider<P: Param>(
    ui: &mut egui::Ui,
    p: &P,
    setter: &ParamSetter,
    width: f32,
) -> egui::Response {
    ui.add(ParamSlider::for_param(p, setter).with_width(width))
        .on_hover_text(tooltip(p))
}

/// A checkbox for a switch, named for assistive technology and with its tooltip.
pub fn toggle(ui: &mut egui::Ui, p: &BoolParam, setter: &ParamSetter) -> egui::Response {
    let mut v = p.value();
    let resp = ui.checkbox(&mut v, "");
    let name = p.name().to_string();
    resp.widget_info(|| egui::WidgetInfo::selected(egui::Role::CheckBox, true, v, name.clone()));
    if resp.changed() {
        set(setter, p, v);
    }
    resp.on_hover_text(tooltip(p))
}
