//! Tests of the emulator's graph part (in progress).
