//! The VST3 factory: the framework's wrapper inside a front ([`Guarded`]) that is the same COM
//! object for every interface the wrapper implements and forwards every call to it, except
//! `IComponent::setState`, which reads the host's stream, passes the JSON through
//! [`super::repair_state`] and gives the wrapper the result as an in-memory stream.
//!
//! The forwarding methods are mechanical (one per interface method, generated from the
//! interface definitions); the audio path pays one direct call.

#![allow(non_snake_case, clippy::too_many_arguments)]

use std::cell::RefCell;
use std::ffi::c_void;

use nice_plug::prelude::Vst3Plugin;
use nice_plug::wrapper::vst3::vst3::Steinberg::IBStream_::IStreamSeekMode_::{
    kIBSeekCur, kIBSeekEnd, kIBSeekSet,
};
use nice_plug::wrapper::vst3::vst3::Steinberg::Vst::CString;
use nice_plug::wrapper::vst3::vst3::Steinberg::Vst::ChannelContext::{
    IInfoListener, IInfoListenerTrait,
};
use nice_plug::wrapper::vst3::vst3::Steinberg::Vst::*;
use nice_plug::wrapper::vst3::vst3::Steinberg::*;
use nice_plug::wrapper::vst3::vst3::{Class, ComRef, ComWrapper};
use nice_plug::wrapper::vst3::{PluginInfo, Wrapper};

use super::{repair_state, MAX_STATE_BYTES};
use crate::plugin::FluxForge;

/// The framework's VST3 wrapper behind the state repair.
pub struct Guarded<P: Vst3Plugin>(Wrapper<P>);

impl<P: Vst3Plugin> Class for Guarded<P> {
    type Interfaces = (
        IComponent,
        IEditController,
        IAudioProcessor,
        IMidiMapping,
        INoteExpressionController,
        IProcessContextRequirements,
        IUnitInfo,
        IInfoListener,
    );
}

impl<P: Vst3Plugin> Guarded<P> {
    /// Reads the whole host stream, repairs it and loads the result.
    unsafe fn set_state_repaired(&self, state: *mut IBStream) -> tresult {
        let Some(stream) = (unsafe { ComRef::from_raw(state) }) else {
            return kInvalidArgument;
        };
        let mut bytes = Vec::new();
        let mut chunk = vec![0u8; 1 << 16];
        loop {
            let mut n: int32 = 0;
            let r = unsafe {
                stream.read(
                    chunk.as_mut_ptr() as *mut c_void,
                    chunk.len() as int32,
                    &mut n,
                )
            };
            if n <= 0 || bytes.len() > MAX_STATE_BYTES {
                break;
            }
            bytes.extend_from_slice(&chunk[..(n as usize).min(chunk.len())]);
            if r != kResultOk {
                break;
            }
        }
        let (repaired, usable) = repair_state(&bytes);
        let memory = ComWrapper::new(MemoryStream {
            data: repaired,
            at: RefCell::new(0),
        });
        let Some(ptr) = memory.to_com_ptr::<IBStream>() else {
            return kResultFalse;
        };
        let r = unsafe { IComponentTrait::setState(&self.0, ptr.as_ptr()) };
        if r == kResultOk && !usable {
            kResultFalse
        } else {
            r
        }
    }
}

/// A read-only in-memory `IBStream`.
struct MemoryStream {
    data: Vec<u8>,
    at: RefCell<i64>,
}

impl Class for MemoryStream {
    type Interfaces = (IBStream,);
}

impl IBStreamTrait for MemoryStream {
    unsafe fn read(
        &self,
        buffer: *mut c_void,
        numBytes: int32,
        numBytesRead: *mut int32,
    ) -> tresult {
        let mut at = self.at.borrow_mut();
        let start = (*at).clamp(0, self.data.len() as i64) as usize;
        let n = (self.data.len() - start).min(numBytes.max(0) as usize);
        unsafe {
            std::ptr::copy_nonoverlapping(self.data.as_ptr().add(start), buffer as *mut u8, n);
            if !numBytesRead.is_null() {
                *numBytesRead = n as int32;
            }
        }
        *at = (start + n) as i64;
        kResultOk
    }

    unsafe fn write(
        &self,
        _buffer: *mut c_void,
        _numBytes: int32,
        _numBytesWritten: *mut int32,
    ) -> tresult {
        kResultFalse
    }

    unsafe fn seek(&self, pos: int64, mode: int32, result: *mut int64) -> tresult {
        let mut at = self.at.borrow_mut();
        // The seek-mode constants are `u32` in the Linux and macOS bindings and `i32` in the
        // Windows ones: compare as `i64`, which holds both.
        let base = match i64::from(mode) {
            m if m == kIBSeekSet as i64 => 0,
            m if m == kIBSeekCur as i64 => *at,
            m if m == kIBSeekEnd as i64 => self.data.len() as i64,
            _ => return kInvalidArgument,
        };
        *at = (base + pos).clamp(0, self.data.len() as i64);
        if !result.is_null() {
            unsafe { *result = *at };
        }
        kResultOk
    }

    unsafe fn tell(&self, pos: *mut int64) -> tresult {
        if !pos.is_null() {
            unsafe { *pos = *self.at.borrow() };
        }
        kResultOk
    }
}

/// The plugin factory.
pub struct Factory {
    info: PluginInfo,
}

impl Class for Factory {
    type Interfaces = (IPluginFactory, IPluginFactory2, IPluginFactory3);
}

impl IPluginFactoryTrait for Factory {
    unsafe fn getFactoryInfo(&self, info: *mut PFactoryInfo) -> tresult {
        if info.is_null() {
            return kInvalidArgument;
        }
        unsafe { *info = self.info.create_factory_info() };
        kResultOk
    }

    unsafe fn countClasses(&self) -> int32 {
        1
    }

    unsafe fn getClassInfo(&self, index: int32, info: *mut PClassInfo) -> tresult {
        if index != 0 || info.is_null() {
            return kInvalidArgument;
        }
        unsafe { *info = self.info.create_class_info() };
        kResultOk
    }

    unsafe fn createInstance(
        &self,
        cid: FIDString,
        iid: FIDString,
        obj: *mut *mut c_void,
    ) -> tresult {
        if cid.is_null() || obj.is_null() || unsafe { &*(cid as *const [u8; 16]) } != self.info.cid
        {
            return kInvalidArgument;
        }
        let object = ComWrapper::new(Guarded(Wrapper::<FluxForge>::new()));
        let Some(unknown) = object.as_com_ref::<FUnknown>() else {
            return kNoInterface;
        };
        let ptr = unknown.as_ptr();
        unsafe { ((*(*ptr).vtbl).queryInterface)(ptr, iid as *const TUID, obj) }
    }
}

impl IPluginFactory2Trait for Factory {
    unsafe fn getClassInfo2(&self, index: int32, info: *mut PClassInfo2) -> tresult {
        if index != 0 || info.is_null() {
            return kInvalidArgument;
        }
        unsafe { *info = self.info.create_class_info_2() };
        kResultOk
    }
}

impl IPluginFactory3Trait for Factory {
    unsafe fn getClassInfoUnicode(&self, index: int32, info: *mut PClassInfoW) -> tresult {
        if index != 0 || info.is_null() {
            return kInvalidArgument;
        }
        unsafe { *info = self.info.create_class_info_unicode() };
        kResultOk
    }

    unsafe fn setHostContext(&self, _context: *mut FUnknown) -> tresult {
        kResultOk
    }
}

/// The VST3 factory entry point.
#[unsafe(no_mangle)]
pub extern "system" fn GetPluginFactory() -> *mut c_void {
    ComWrapper::new(Factory {
        info: PluginInfo::for_plugin::<FluxForge>(),
    })
    .to_com_ptr::<IPluginFactory>()
    .map_or(std::ptr::null_mut(), |p| p.into_raw() as *mut c_void)
}

/// Module entry on Linux and the BSDs.
#[unsafe(no_mangle)]
#[cfg(all(target_family = "unix", not(target_os = "macos")))]
pub extern "C" fn ModuleEntry(_lib_handle: *mut c_void) -> bool {
    nice_plug::wrapper::setup_logger::<FluxForge>();
    true
}

/// Module exit on Linux and the BSDs.
#[unsafe(no_mangle)]
#[cfg(all(target_family = "unix", not(target_os = "macos")))]
pub extern "C" fn ModuleExit() -> bool {
    true
}

/// Bundle entry on macOS.
#[unsafe(no_mangle)]
#[cfg(target_os = "macos")]
pub extern "C" fn bundleEntry(_lib_handle: *mut c_void) -> bool {
    nice_plug::wrapper::setup_logger::<FluxForge>();
    true
}

/// Bundle exit on macOS.
#[unsafe(no_mangle)]
#[cfg(target_os = "macos")]
pub extern "C" fn bundleExit() -> bool {
    true
}

// Forwarders.

impl<P: Vst3Plugin> IPluginBaseTrait for Guarded<P> {
    unsafe fn initialize(&self, context: *mut FUnknown) -> tresult {
        unsafe { IPluginBaseTrait::initialize(&self.0, context) }
    }
    unsafe fn terminate(&self) -> tresult {
        unsafe { IPluginBaseTrait::terminate(&self.0) }
    }
}

impl<P: Vst3Plugin> IComponentTrait for Guarded<P> {
    unsafe fn getControllerClassId(&self, classId: *mut TUID) -> tresult {
        unsafe { IComponentTrait::getControllerClassId(&self.0, classId) }
    }
    unsafe fn setIoMode(&self, mode: IoMode) -> tresult {
        unsafe { IComponentTrait::setIoMode(&self.0, mode) }
    }
    unsafe fn getBusCount(&self, r#type: MediaType, dir: BusDirection) -> int32 {
        unsafe { IComponentTrait::getBusCount(&self.0, r#type, dir) }
    }
    unsafe fn getBusInfo(
        &self,
        r#type: MediaType,
        dir: BusDirection,
        index: int32,
        bus: *mut BusInfo,
    ) -> tresult {
        unsafe { IComponentTrait::getBusInfo(&self.0, r#type, dir, index, bus) }
    }
    unsafe fn getRoutingInfo(
        &self,
        inInfo: *mut RoutingInfo,
        outInfo: *mut RoutingInfo,
    ) -> tresult {
        unsafe { IComponentTrait::getRoutingInfo(&self.0, inInfo, outInfo) }
    }
    unsafe fn activateBus(
        &self,
        r#type: MediaType,
        dir: BusDirection,
        index: int32,
        state: TBool,
    ) -> tresult {
        unsafe { IComponentTrait::activateBus(&self.0, r#type, dir, index, state) }
    }
    unsafe fn setActive(&self, state: TBool) -> tresult {
        unsafe { IComponentTrait::setActive(&self.0, state) }
    }
    unsafe fn setState(&self, state: *mut IBStream) -> tresult {
        unsafe { self.set_state_repaired(state) }
    }
    unsafe fn getState(&self, state: *mut IBStream) -> tresult {
        unsafe { IComponentTrait::getState(&self.0, state) }
    }
}

impl<P: Vst3Plugin> IEditControllerTrait for Guarded<P> {
    unsafe fn setComponentState(&self, state: *mut IBStream) -> tresult {
        unsafe { IEditControllerTrait::setComponentState(&self.0, state) }
    }
    unsafe fn setState(&self, state: *mut IBStream) -> tresult {
        unsafe { IEditControllerTrait::setState(&self.0, state) }
    }
    unsafe fn getState(&self, state: *mut IBStream) -> tresult {
        unsafe { IEditControllerTrait::getState(&self.0, state) }
    }
    unsafe fn getParameterCount(&self) -> int32 {
        unsafe { IEditControllerTrait::getParameterCount(&self.0) }
    }
    unsafe fn getParameterInfo(&self, paramIndex: int32, info: *mut ParameterInfo) -> tresult {
        unsafe { IEditControllerTrait::getParameterInfo(&self.0, paramIndex, info) }
    }
    unsafe fn getParamStringByValue(
        &self,
        id: ParamID,
        valueNormalized: ParamValue,
        string: *mut String128,
    ) -> tresult {
        unsafe { IEditControllerTrait::getParamStringByValue(&self.0, id, valueNormalized, string) }
    }
    unsafe fn getParamValueByString(
        &self,
        id: ParamID,
        string: *mut TChar,
        valueNormalized: *mut ParamValue,
    ) -> tresult {
        unsafe { IEditControllerTrait::getParamValueByString(&self.0, id, string, valueNormalized) }
    }
    unsafe fn normalizedParamToPlain(
        &self,
        id: ParamID,
        valueNormalized: ParamValue,
    ) -> ParamValue {
        unsafe { IEditControllerTrait::normalizedParamToPlain(&self.0, id, valueNormalized) }
    }
    unsafe fn plainParamToNormalized(&self, id: ParamID, plainValue: ParamValue) -> ParamValue {
        unsafe { IEditControllerTrait::plainParamToNormalized(&self.0, id, plainValue) }
    }
    unsafe fn getParamNormalized(&self, id: ParamID) -> ParamValue {
        unsafe { IEditControllerTrait::getParamNormalized(&self.0, id) }
    }
    unsafe fn setParamNormalized(&self, id: ParamID, value: ParamValue) -> tresult {
        unsafe { IEditControllerTrait::setParamNormalized(&self.0, id, value) }
    }
    unsafe fn setComponentHandler(&self, handler: *mut IComponentHandler) -> tresult {
        unsafe { IEditControllerTrait::setComponentHandler(&self.0, handler) }
    }
    unsafe fn createView(&self, name: FIDString) -> *mut IPlugView {
        unsafe { IEditControllerTrait::createView(&self.0, name) }
    }
}

impl<P: Vst3Plugin> IAudioProcessorTrait for Guarded<P> {
    unsafe fn setBusArrangements(
        &self,
        inputs: *mut SpeakerArrangement,
        numIns: int32,
        outputs: *mut SpeakerArrangement,
        numOuts: int32,
    ) -> tresult {
        unsafe {
            IAudioProcessorTrait::setBusArrangements(&self.0, inputs, numIns, outputs, numOuts)
        }
    }
    unsafe fn getBusArrangement(
        &self,
        dir: BusDirection,
        index: int32,
        arr: *mut SpeakerArrangement,
    ) -> tresult {
        unsafe { IAudioProcessorTrait::getBusArrangement(&self.0, dir, index, arr) }
    }
    unsafe fn canProcessSampleSize(&self, symbolicSampleSize: int32) -> tresult {
        unsafe { IAudioProcessorTrait::canProcessSampleSize(&self.0, symbolicSampleSize) }
    }
    unsafe fn getLatencySamples(&self) -> uint32 {
        unsafe { IAudioProcessorTrait::getLatencySamples(&self.0) }
    }
    unsafe fn setupProcessing(&self, setup: *mut ProcessSetup) -> tresult {
        unsafe { IAudioProcessorTrait::setupProcessing(&self.0, setup) }
    }
    unsafe fn setProcessing(&self, state: TBool) -> tresult {
        unsafe { IAudioProcessorTrait::setProcessing(&self.0, state) }
    }
    unsafe fn process(&self, data: *mut ProcessData) -> tresult {
        unsafe { IAudioProcessorTrait::process(&self.0, data) }
    }
    unsafe fn getTailSamples(&self) -> uint32 {
        unsafe { IAudioProcessorTrait::getTailSamples(&self.0) }
    }
}

impl<P: Vst3Plugin> IMidiMappingTrait for Guarded<P> {
    unsafe fn getMidiControllerAssignment(
        &self,
        busIndex: int32,
        channel: int16,
        midiControllerNumber: CtrlNumber,
        id: *mut ParamID,
    ) -> tresult {
        unsafe {
            IMidiMappingTrait::getMidiControllerAssignment(
                &self.0,
                busIndex,
                channel,
                midiControllerNumber,
                id,
            )
        }
    }
}

impl<P: Vst3Plugin> INoteExpressionControllerTrait for Guarded<P> {
    unsafe fn getNoteExpressionCount(&self, busIndex: int32, channel: int16) -> int32 {
        unsafe {
            INoteExpressionControllerTrait::getNoteExpressionCount(&self.0, busIndex, channel)
        }
    }
    unsafe fn getNoteExpressionInfo(
        &self,
        busIndex: int32,
        channel: int16,
        noteExpressionIndex: int32,
        info: *mut NoteExpressionTypeInfo,
    ) -> tresult {
        unsafe {
            INoteExpressionControllerTrait::getNoteExpressionInfo(
                &self.0,
                busIndex,
                channel,
                noteExpressionIndex,
                info,
            )
        }
    }
    unsafe fn getNoteExpressionStringByValue(
        &self,
        busIndex: int32,
        channel: int16,
        id: NoteExpressionTypeID,
        valueNormalized: NoteExpressionValue,
        string: *mut String128,
    ) -> tresult {
        unsafe {
            INoteExpressionControllerTrait::getNoteExpressionStringByValue(
                &self.0,
                busIndex,
                channel,
                id,
                valueNormalized,
                string,
            )
        }
    }
    unsafe fn getNoteExpressionValueByString(
        &self,
        busIndex: int32,
        channel: int16,
        id: NoteExpressionTypeID,
        string: *const TChar,
        valueNormalized: *mut NoteExpressionValue,
    ) -> tresult {
        unsafe {
            INoteExpressionControllerTrait::getNoteExpressionValueByString(
                &self.0,
                busIndex,
                channel,
                id,
                string,
                valueNormalized,
            )
        }
    }
}

impl<P: Vst3Plugin> IProcessContextRequirementsTrait for Guarded<P> {
    unsafe fn getProcessContextRequirements(&self) -> uint32 {
        unsafe { IProcessContextRequirementsTrait::getProcessContextRequirements(&self.0) }
    }
}

impl<P: Vst3Plugin> IUnitInfoTrait for Guarded<P> {
    unsafe fn getUnitCount(&self) -> int32 {
        unsafe { IUnitInfoTrait::getUnitCount(&self.0) }
    }
    unsafe fn getUnitInfo(&self, unitIndex: int32, info: *mut UnitInfo) -> tresult {
        unsafe { IUnitInfoTrait::getUnitInfo(&self.0, unitIndex, info) }
    }
    unsafe fn getProgramListCount(&self) -> int32 {
        unsafe { IUnitInfoTrait::getProgramListCount(&self.0) }
    }
    unsafe fn getProgramListInfo(&self, listIndex: int32, info: *mut ProgramListInfo) -> tresult {
        unsafe { IUnitInfoTrait::getProgramListInfo(&self.0, listIndex, info) }
    }
    unsafe fn getProgramName(
        &self,
        listId: ProgramListID,
        programIndex: int32,
        name: *mut String128,
    ) -> tresult {
        unsafe { IUnitInfoTrait::getProgramName(&self.0, listId, programIndex, name) }
    }
    unsafe fn getProgramInfo(
        &self,
        listId: ProgramListID,
        programIndex: int32,
        attributeId: CString,
        attributeValue: *mut String128,
    ) -> tresult {
        unsafe {
            IUnitInfoTrait::getProgramInfo(
                &self.0,
                listId,
                programIndex,
                attributeId,
                attributeValue,
            )
        }
    }
    unsafe fn hasProgramPitchNames(&self, listId: ProgramListID, programIndex: int32) -> tresult {
        unsafe { IUnitInfoTrait::hasProgramPitchNames(&self.0, listId, programIndex) }
    }
    unsafe fn getProgramPitchName(
        &self,
        listId: ProgramListID,
        programIndex: int32,
        midiPitch: int16,
        name: *mut String128,
    ) -> tresult {
        unsafe {
            IUnitInfoTrait::getProgramPitchName(&self.0, listId, programIndex, midiPitch, name)
        }
    }
    unsafe fn getSelectedUnit(&self) -> UnitID {
        unsafe { IUnitInfoTrait::getSelectedUnit(&self.0) }
    }
    unsafe fn selectUnit(&self, unitId: UnitID) -> tresult {
        unsafe { IUnitInfoTrait::selectUnit(&self.0, unitId) }
    }
    unsafe fn getUnitByBus(
        &self,
        r#type: MediaType,
        dir: BusDirection,
        busIndex: int32,
        channel: int32,
        unitId: *mut UnitID,
    ) -> tresult {
        unsafe { IUnitInfoTrait::getUnitByBus(&self.0, r#type, dir, busIndex, channel, unitId) }
    }
    unsafe fn setUnitProgramData(
        &self,
        listOrUnitId: int32,
        programIndex: int32,
        data: *mut IBStream,
    ) -> tresult {
        unsafe { IUnitInfoTrait::setUnitProgramData(&self.0, listOrUnitId, programIndex, data) }
    }
}

impl<P: Vst3Plugin> IInfoListenerTrait for Guarded<P> {
    unsafe fn setChannelContextInfos(&self, list: *mut IAttributeList) -> tresult {
        unsafe { IInfoListenerTrait::setChannelContextInfos(&self.0, list) }
    }
}
