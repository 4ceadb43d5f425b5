//! The factory impulses in `impulses/` are the output of the project's generator
//! (`src/dsp/ir_gen.rs`, run by `scripts/make-impulses.sh`), and the default one is the copy
//! embedded in the binary.

use std::path::Path;

use fluxforge::dsp::ir_gen::{factory_rooms, render};
use fluxforge::ir_file;
use fluxforge::params::Room;

#[test]
fn committed_wavs_are_the_generators_output() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("impulses");
    let rooms = factory_rooms();
    assert!(rooms.len() >= 6);
    for spec in &rooms {
        let file = ir_file::load_ir(&dir.join(format!("{}.wav", spec.name))).unwrap();
        assert_eq!(file.sample_rate, 48_000, "{}", spec.name);
        let [l, r] = render(spec, 48_000.0);
        assert_eq!(file.len(), l.len(), "{}", spec.name);
        // The file is peak-normalised to -1 dBFS and quantised to 24 bits by the one WAV
        // writer (`ir_file::write_wav`: round(v * 2^23)), so every sample is within half a
        // step of the generator's (the earlier writer's 2^23 - 1 scale was off by up to a step).
        let peak = l.iter().chain(&r).fold(0.0f32, |m, v| m.max(v.abs()));
        let g = 10f32.powf(-1.0 / 20.0) / peak;
        let err = file.channels[0]
            .iter()
            .zip(&l)
            .chain(file.channels[1].iter().zip(&r))
            .map(|(a, b)| (a - b * g).abs())
            .fold(0.0f32, f32::max);
        let lsb = err * 8_388_608.0;
        assert!(lsb <= 0.6, "{}: {lsb} steps of 24 bits", spec.name);
    }
    let cathedral = rooms.iter().find(|r| r.name == "Cathedral").unwrap();
    assert!(cathedral.length_s >= 4.0);
}

#[test]
fn the_default_ir_is_the_embedded_medium_room() {
    let embedded = ir_file::decode_wav(fluxforge::ir_source::DEFAULT_IR_WAV, "x").unwrap();
    let on_disk =
        ir_file::load_ir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("impulses/Medium Room.wav"))
            .unwrap();
    assert_eq!(embedded.channels, on_disk.channels);
    let [l, r] = fluxforge::ir_source::default_ir(48_000.0);
    assert_eq!([l, r].to_vec(), embedded.channels);
    // At another rate it is resampled (same duration).
    let [l, _] = fluxforge::ir_source::room_ir(Room::MediumRoom, 44_100.0);
    assert_eq!(
        l.len(),
        (embedded.len() as u64 * 44_100).div_ceil(48_000) as usize
    );
}
