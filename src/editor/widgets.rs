//! The editor's parameter widgets, written once: a slider that shows its value with its unit
//! and its description as a tooltip (double-click or Ctrl+click resets it to its default), a
//! switch with an accessible name, and the one gesture helper every discrete change uses.

use std::collections::HashMap;
use std::sync::OnceLock;

use nice_plug::prelude::{BoolParam, Enum, EnumParam, Param, ParamSetter};
use nice_plug_egui::widgets::ParamSlider;

use crate::params::access::params_of;
use crate::params::{description, FluxForgeParams};

/// Descriptions by parameter name (the editor holds parameters, not their IDs).
fn by_name(name: &str) -> &'static str {
    static TABLE: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            params_of(&FluxForgeParams::default())
                .into_iter()
                .map(|(id, p)| (p.name(), description(&id)))
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

/// A choice list for an enum parameter (one gesture per pick).
pub fn choice<T: Enum + PartialEq + Copy + 'static>(
    ui: &mut egui::Ui,
    setter: &ParamSetter,
    p: &EnumParam<T>,
) {
    ui.menu_button(format!("{}: {}", short(p.name()), p), |ui| {
        for (k, name) in T::variants().iter().enumerate() {
            let v = T::from_index(k);
            if ui.selectable_label(p.value() == v, *name).clicked() {
                set(setter, p, v);
                ui.close();
            }
        }
    });
}

/// "Band 3 Type" -> "Type".
fn short(name: &str) -> &str {
    name.rsplit(' ').next().unwrap_or(name)
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

/// A five-pointed star that toggles `on` when clicked (filled when on), named `label` for
/// screen readers and tests.
pub fn star(ui: &mut egui::Ui, on: bool, label: &str) -> egui::Response {
    let size = ui.spacing().interact_size.y;
    let (rect, response) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::click());
    response.widget_info(|| egui::WidgetInfo::selected(egui::Role::CheckBox, true, on, label));
    if ui.is_rect_visible(rect) {
        let visuals = ui.style().interact(&response);
        let c = rect.center();
        let (outer, inner) = (rect.height() * 0.42, rect.height() * 0.18);
        let points: Vec<egui::Pos2> = (0..10)
            .map(|k| {
                let r = if k % 2 == 0 { outer } else { inner };
                let a = -std::f32::consts::FRAC_PI_2 + k as f32 * std::f32::consts::PI / 5.0;
                c + r * egui::vec2(a.cos(), a.sin())
            })
            .collect();
        let gold = egui::Color32::from_rgb(240, 190, 60);
        // The star is concave: fill it as ten triangles around the centre.
        if on {
            let mut mesh = egui::Mesh::default();
            mesh.colored_vertex(c, gold);
            for p in &points {
                mesh.colored_vertex(*p, gold);
            }
            for k in 0..10u32 {
                mesh.add_triangle(0, 1 + k, 1 + (k + 1) % 10);
            }
            ui.painter().add(mesh);
        }
        let stroke = if on {
            egui::Stroke::new(1.0, gold)
        } else {
            visuals.fg_stroke
        };
        ui.painter().add(egui::Shape::closed_line(points, stroke));
    }
    response.on_hover_text(if on {
        "Remove from favourites"
    } else {
        "Add to favourites"
    })
}
