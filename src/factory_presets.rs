//! The factory bank: the presets in `presets/` (one JSON file each, the format of
//! [`crate::preset`]), built into the plugin and the renderer.

use crate::preset::Preset;

/// The files, by category.
const FILES: &[&str] = &[
    include_str!("../presets/Character/Broadcast Polish.json"),
    include_str!("../presets/Character/Mix Glue Warmth.json"),
    include_str!("../presets/Character/Tape Saturation.json"),
    include_str!("../presets/Creative/Lo-Fi Room.json"),
    include_str!("../presets/Creative/Long Tail Pad.json"),
    include_str!("../presets/Creative/Reverse Swell.json"),
    include_str!("../presets/Creative/Slapback Room.json"),
    include_str!("../presets/Creative/Tempo Slap.json"),
    include_str!("../presets/Creative/Warm Bloom.json"),
    include_str!("../presets/Drums/Big Drums Crush.json"),
    include_str!("../presets/Drums/Drum Room.json"),
    include_str!("../presets/Drums/Kick Tightener.json"),
    include_str!("../presets/Drums/Snare Plate.json"),
    include_str!("../presets/Mix Repair/De-Boom.json"),
    include_str!("../presets/Mix Repair/De-Ess.json"),
    include_str!("../presets/Mix Repair/De-Harsh Vocal.json"),
    include_str!("../presets/Mix Repair/De-Mud.json"),
    include_str!("../presets/Mix Repair/Resonance Tamer.json"),
    include_str!("../presets/Mix Repair/Spectral De-Ess.json"),
    include_str!("../presets/Mix Repair/Upward Detail.json"),
    include_str!("../presets/Post/Dialogue Room Match.json"),
    include_str!("../presets/Post/Hallway.json"),
    include_str!("../presets/Post/Small Box.json"),
    include_str!("../presets/Spaces/Ambient Cathedral.json"),
    include_str!("../presets/Spaces/Chamber Strings.json"),
    include_str!("../presets/Spaces/Darkening Hall.json"),
    include_str!("../presets/Spaces/Medium Studio.json"),
    include_str!("../presets/Spaces/Piano Hall.json"),
    include_str!("../presets/Spaces/Tight Ambience.json"),
    include_str!("../presets/Vocals/Backing Vocal Wash.json"),
    include_str!("../presets/Vocals/Clear Vocal Duck.json"),
    include_str!("../presets/Vocals/Clear Air Plate.json"),
    include_str!("../presets/Vocals/Vocal Hall Long.json"),
    include_str!("../presets/Vocals/Vocal Plate.json"),
    include_str!("../presets/Vocals/Vocal Room.json"),
];

/// Every factory preset, in category order.
pub fn bank() -> Vec<Preset> {
    FILES
        .iter()
        .map(|text| Preset::parse(text).expect("factory presets are valid"))
        .collect()
}

/// The factory preset called `name` (case, spaces, dashes and underscores ignored).
pub fn find(name: &str) -> Option<Preset> {
    let fold = |s: &str| {
        s.chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    bank().into_iter().find(|p| fold(&p.name) == fold(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::FluxForgeParams;

    #[test]
    fn every_file_in_the_folder_is_in_the_bank_and_applies_cleanly() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("presets");
        let mut on_disk = 0;
        for cat in std::fs::read_dir(&dir).unwrap() {
            on_disk += std::fs::read_dir(cat.unwrap().path()).unwrap().count();
        }
        let bank = bank();
        assert_eq!(bank.len(), on_disk);
        assert!(bank.len() >= 24);
        for p in &bank {
            assert!(!p.name.is_empty() && !p.category.is_empty() && !p.notes.is_empty());
            let params = FluxForgeParams::default();
            assert_eq!(p.apply(&params), Vec::<String>::new(), "{}", p.name);
            assert_eq!(find(&p.name.to_uppercase()).unwrap().name, p.name);
        }
    }
}
