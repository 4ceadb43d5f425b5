//! Remote-controls pages through the host: a controller's pages name real parameters, at most
//! eight per page, every parameter on exactly one page, grouped by section.

use std::collections::BTreeMap;

use clack_extensions::remote_controls::{PluginRemoteControls, RemoteControlsPageBuffer};

use super::common::*;

#[test]
fn every_parameter_is_on_exactly_one_remote_controls_page() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let params = Params::get(&mut inst);
    let handle = inst.plugin_handle();
    let remote = handle
        .get_extension::<PluginRemoteControls>()
        .expect("remote-controls extension");
    let count = remote.count(&handle);
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut sections = Vec::new();
    let mut page_ids = Vec::new();
    for i in 0..count {
        let mut buf = RemoteControlsPageBuffer::new();
        let page = remote.get(&handle, i, &mut buf).expect("page");
        let name = String::from_utf8_lossy(page.page_name).to_string();
        let section = String::from_utf8_lossy(page.section_name).to_string();
        assert!(!name.is_empty() && !section.is_empty(), "page {i} is named");
        assert!(!page_ids.contains(&page.page_id), "page ids are unique");
        page_ids.push(page.page_id);
        if !sections.contains(&section) {
            sections.push(section.clone());
        }
        for id in page.param_ids.iter().flatten() {
            let (sid, _) = params
                .ids
                .iter()
                .find(|(_, c)| c == id)
                .unwrap_or_else(|| panic!("page {name} names an unknown parameter {id:?}"));
            if let Some(other) = seen.insert(sid.clone(), name.clone()) {
                panic!("{sid} is on page {other} and on page {name}");
            }
        }
    }
    let missing: Vec<&String> = params
        .ids
        .iter()
        .map(|(s, _)| s)
        .filter(|s| !seen.contains_key(*s))
        .collect();
    assert!(missing.is_empty(), "parameters on no page: {missing:?}");
    assert_eq!(
        sections,
        ["Reverb", "Character", "EQ Bands", "Spectral Dynamics"],
        "sections in order"
    );
    // Each band's pages hold that band's parameters only.
    for (sid, page) in &seen {
        if let Some(band) = sid.strip_prefix("eq_").and_then(|s| s.rsplit('_').next()) {
            if sid != "eq_where" {
                assert!(
                    page.starts_with(&format!("Band {band}")),
                    "{sid} is on page {page}"
                );
            }
        }
    }
    assert_eq!(seen["mix"], "Reverb");
    assert_eq!(seen["sat_drive"], "Character");
    assert_eq!(seen["eq_freq_3"], "Band 3");
    assert_eq!(seen["spec_thresh"], "Spectral");
}
