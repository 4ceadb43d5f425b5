//! Safe access to parameters by ID: the one place that dereferences nice-plug's parameter
//! pointers. `ParamPtr`'s methods are `unsafe` because a pointer can outlive its parameter
//! object; a [`ParamRef`] borrows the object it came from, so it cannot.
//!
//! # Safety
//!
//! 1. **Validity.** `Params::param_map()` returns pointers to fields of the object it is called
//!    on; they stay valid while that object lives (nice-plug never moves or frees a
//!    parameter). Every `ParamRef<'a>` comes from [`params_of`] on an object borrowed for
//!    `'a`, so each dereference below happens while the object lives.
//! 2. **Values are atomics.** Reading or setting a value through a shared reference races
//!    with nothing.
//! 3. **Setters.** nice-plug marks its `_internal_set_*` setters `unsafe` ("for the framework's
//!    own use") because a plugin that sets its host-visible parameters directly bypasses the
//!    host. The setters here are used on parameter objects the host does not see (the
//!    renderer's, a preset's scratch object) or, for a state or preset load, exactly as the
//!    framework's own state load sets them; they are never called on the audio thread.

use std::marker::PhantomData;

use nice_plug::params::InternalParamMut;
use nice_plug::prelude::{BoolParam, FloatParam, IntParam, Param, ParamPtr, Params};

/// A parameter of a borrowed parameter object.
#[derive(Clone, Copy)]
pub struct ParamRef<'a> {
    ptr: ParamPtr,
    _owner: PhantomData<&'a ()>,
}

/// A parameter by its type.
pub enum Kind<'a> {
    /// A continuous parameter.
    Float(&'a FloatParam),
    /// An integer parameter.
    Int(&'a IntParam),
    /// A switch.
    Bool(&'a BoolParam),
    /// An enum (type-erased: reached through the normalized value and its text).
    Enum,
}

/// Every parameter of `params` with its ID, in the object's order.
pub fn params_of(params: &dyn Params) -> Vec<(String, ParamRef<'_>)> {
    params
        .param_map()
        .into_iter()
        .map(|(id, ptr, _)| {
            (
                id,
                ParamRef {
                    ptr,
                    _owner: PhantomData,
                },
            )
        })
        .collect()
}

impl<'a> ParamRef<'a> {
    /// The raw pointer (for the framework's own calls, such as a GUI context's gestures).
    pub fn ptr(&self) -> ParamPtr {
        self.ptr
    }

    /// The parameter by its type.
    pub fn kind(&self) -> Kind<'a> {
        // SAFETY: validity (module documentation, point 1): the pointer is live for `'a`.
        unsafe {
            match self.ptr {
                ParamPtr::FloatParam(p) => Kind::Float(&*p),
                ParamPtr::IntParam(p) => Kind::Int(&*p),
                ParamPtr::BoolParam(p) => Kind::Bool(&*p),
                ParamPtr::EnumParam(_) => Kind::Enum,
            }
        }
    }

    /// The display name.
    pub fn name(&self) -> String {
        // SAFETY: point 1.
        unsafe { self.ptr.name() }.to_string()
    }

    /// The value without modulation, normalized.
    pub fn normalized(&self) -> f32 {
        // SAFETY: points 1 and 2.
        unsafe { self.ptr.unmodulated_normalized_value() }
    }

    /// The value without modulation, plain (an enum's variant index).
    pub fn plain(&self) -> f32 {
        // SAFETY: points 1 and 2.
        unsafe { self.ptr.unmodulated_plain_value() }
    }

    /// The default, normalized.
    pub fn default_normalized(&self) -> f32 {
        // SAFETY: point 1.
        unsafe { self.ptr.default_normalized_value() }
    }

    /// The default, plain.
    pub fn default_plain(&self) -> f32 {
        // SAFETY: point 1.
        unsafe { self.ptr.default_plain_value() }
    }

    /// Steps of a stepped parameter (enums, switches, integers).
    pub fn step_count(&self) -> Option<usize> {
        // SAFETY: point 1.
        unsafe { self.ptr.step_count() }
    }

    /// The text shown for normalized value `n`.
    pub fn text(&self, n: f32, unit: bool) -> String {
        // SAFETY: point 1.
        unsafe { self.ptr.normalized_value_to_string(n, unit) }
    }

    /// The normalized value of a typed text.
    pub fn parse(&self, s: &str) -> Option<f32> {
        // SAFETY: point 1.
        unsafe { self.ptr.string_to_normalized_value(s) }
    }

    /// The plain value of normalized value `n`.
    pub fn preview_plain(&self, n: f32) -> f32 {
        // SAFETY: point 1.
        unsafe { self.ptr.preview_plain(n) }
    }

    /// The normalized value of plain value `plain`.
    pub fn preview_normalized(&self, plain: f32) -> f32 {
        // SAFETY: point 1.
        unsafe { self.ptr.preview_normalized(plain) }
    }

    /// Sets the normalized value (snapped to the parameter's steps).
    pub fn set_normalized(&self, n: f32) {
        // SAFETY: points 1 to 3.
        unsafe { self.ptr._internal_set_normalized_value(n) };
    }

    /// Sets a float or integer parameter exactly to `plain` (rounded for integers), as a state
    /// load does; other kinds through their normalized value.
    pub fn set_plain(&self, plain: f64) {
        match self.kind() {
            Kind::Float(p) => {
                // SAFETY: points 1 to 3.
                let _ = unsafe { p._internal_set_plain_value(plain as f32) };
            }
            Kind::Int(p) => {
                // SAFETY: points 1 to 3.
                let _ = unsafe { p._internal_set_plain_value(plain.round() as i32) };
            }
            Kind::Bool(_) | Kind::Enum => {
                self.set_normalized(self.preview_normalized(plain as f32))
            }
        }
    }

    /// Back to the default (a float or integer exactly to its default plain value).
    pub fn reset(&self) {
        match self.kind() {
            Kind::Float(p) => self.set_plain(p.default_plain_value() as f64),
            Kind::Int(p) => self.set_plain(p.default_plain_value() as f64),
            Kind::Bool(_) | Kind::Enum => self.set_normalized(self.default_normalized()),
        }
    }
}
