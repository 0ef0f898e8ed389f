//! Tests of the emulator's ado part (in progress).
