use super::*;
use crate::dsp::dynamic_eq::BandKind;
use crate::dsp::saturator::CharacterMode;

#[test]
fn every_parameter_has_a_description() {
    let params = FluxForgeParams::default();
    let missing: Vec<String> = params
        .param_map()
        .into_iter()
        .map(|(id, _, _)| id)
        .filter(|id| description(id).is_empty())
        .collect();
    assert!(missing.is_empty(), "no description: {missing:?}");
}

#[test]
fn every_default_survives_a_trip_through_the_host() {
    // A host sets values as normalized numbers: a default off its step grid would move by
    // a step the first time an undo or A/B switch sends it back.
    let params = FluxForgeParams::default();
    let mut off = Vec::new();
    for (id, ptr, _) in params.param_map() {
        // SAFETY: `ptr` comes from `param_map()` of a parameter object that outlives this use:
        // nice-plug's parameter pointers point into that object.
        let d = unsafe { ptr.default_plain_value() };
        // SAFETY: `ptr` comes from `param_map()` of a parameter object that outlives this use:
        // nice-plug's parameter pointers point into that object.
        let back = unsafe { ptr.preview_plain(ptr.preview_normalized(d)) };
        if (back - d).abs() > 1e-5 * (1.0 + d.abs()) {
            off.push(format!("{id}: {d} -> {back}"));
        }
    }
    assert!(off.is_empty(), "defaults off their step grid: {off:?}");
}

#[test]
fn rooms_follow_the_factory_list_and_host_enums_mirror_their_dsp_enums() {
    let specs = crate::dsp::ir_gen::factory_rooms();
    let rooms: Vec<Room> = Room::all().filter(|r| *r != Room::File).collect();
    assert_eq!(rooms.len(), specs.len());
    for (room, spec) in rooms.iter().zip(&specs) {
        assert_eq!(room.name(), spec.name);
        assert_eq!(room.factory_spec().unwrap().name, spec.name);
    }
    assert!(Room::File.factory_spec().is_none());
    for k in BandKind::ALL {
        assert_eq!(BandKind::from(BandType::from(k)), k);
    }
    assert_eq!(BandType::variants().len(), BandKind::ALL.len());
    for m in [
        CharacterMode::Clean,
        CharacterMode::Subtle,
        CharacterMode::Warm,
        CharacterMode::Tape,
    ] {
        assert_eq!(CharacterMode::from(Character::from(m)), m);
    }
}

/// Every parameter as (id, pointer), from the plugin's own parameter map.
fn all(params: &FluxForgeParams) -> Vec<(String, ParamPtr)> {
    params
        .param_map()
        .into_iter()
        .map(|(id, ptr, _)| (id, ptr))
        .collect()
}

/// The value one unit of the last shown digit stands for in `text` ("1.52 kHz" -> 10).
fn shown_resolution(text: &str) -> f32 {
    let digits: String = text
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let decimals = digits.split('.').nth(1).map_or(0, str::len);
    let scale = if text.contains("kHz") { 1000.0 } else { 1.0 };
    let pct = if text.ends_with('%') { 0.01 } else { 1.0 };
    10f32.powi(-(decimals as i32)) * scale * pct
}

#[test]
fn every_parameter_reads_back_from_its_own_text_with_its_unit() {
    let params = FluxForgeParams::default();
    let list = all(&params);
    assert!(list.len() >= 154, "{} parameters", list.len());
    for (id, p) in &list {
        // SAFETY: `params` outlives every pointer taken from it.
        unsafe {
            let float = matches!(p, ParamPtr::FloatParam(_));
            for i in 0..=400 {
                let n0 = i as f32 / 400.0;
                let t1 = p.normalized_value_to_string(n0, true);
                let n1 = p
                    .string_to_normalized_value(&t1)
                    .unwrap_or_else(|| panic!("{id}: {t1:?} does not parse"));
                let t2 = p.normalized_value_to_string(n1, true);
                assert_eq!(t1, t2, "{id}: text changes on a round trip");
                if float {
                    let (v0, v1) = (p.preview_plain(n0), p.preview_plain(n1));
                    if v1 == 0.0 {
                        assert!(!t1.starts_with('-'), "{id}: a signed zero {t1:?}");
                    }
                    // Within one shown step (a stepped value shown finer reads back exactly).
                    let tol = shown_resolution(&t1) * 1.001 + v0.abs() * 1e-6;
                    assert!((v1 - v0).abs() <= tol, "{id}: {v0} -> {t1:?} -> {v1}");
                    assert!(
                        t1 == "Off"
                            || t1
                                .chars()
                                .any(|c| c.is_ascii_alphabetic() || c == '%' || c == ':'),
                        "{id}: {t1:?} shows no unit"
                    );
                }
            }
        }
    }
}

#[test]
fn no_shown_value_spans_more_than_two_percent_of_a_knob() {
    let params = FluxForgeParams::default();
    for (id, p) in all(&params) {
        if !matches!(p, ParamPtr::FloatParam(_)) {
            continue; // choices and switches are steps by nature
        }
        const N: usize = 20_000;
        let mut run = 0;
        let mut longest = (0, String::new());
        let mut last = String::new();
        for i in 0..=N {
            // SAFETY: as above.
            let t = unsafe { p.normalized_value_to_string(i as f32 / N as f32, true) };
            run = if t == last { run + 1 } else { 1 };
            if run > longest.0 {
                longest = (run, t.clone());
            }
            last = t;
        }
        let share = longest.0 as f32 / N as f32;
        assert!(
            share <= 0.02,
            "{id}: {:?} spans {:.1} % of the travel",
            longest.1,
            share * 100.0
        );
    }
}

#[test]
fn note_values_have_their_lengths_and_a_synced_pre_delay_falls_back_to_ms() {
    use super::PredelayNote as N;
    assert_eq!(N::Off.beats(), None);
    for (n, beats) in [
        (N::N64, 1.0 / 16.0),
        (N::N64T, 1.0 / 24.0),
        (N::N16D, 0.375),
        (N::N8, 0.5),
        (N::N4T, 2.0 / 3.0),
        (N::N4, 1.0),
        (N::N2, 2.0),
        (N::N2D, 3.0),
    ] {
        assert!((n.beats().unwrap() - beats).abs() < 1e-12, "{n:?}");
    }
    let p = super::FluxForgeParams::default();
    crate::preset::set(&p, "ir_predelay", &serde_json::json!(12.0)).unwrap();
    crate::preset::set(&p, "ir_predelay_sync", &serde_json::json!("1/4")).unwrap();
    assert_eq!(p.ir_edits().predelay_ms, 12.0, "no tempo: the ms");
    p.set_host_tempo(Some(150.0));
    assert_eq!(p.ir_edits().predelay_ms, 400.0);
    // Longer than the pre-delay's range: its end.
    p.set_host_tempo(Some(60.0));
    assert_eq!(p.ir_edits().predelay_ms, 500.0);
    p.set_host_tempo(None);
    assert_eq!(p.ir_edits().predelay_ms, 12.0);
}
