"""Instruction files: the model, loading with positions, validation and the JSON Schema."""

from oss.instructions.loader import InstructionError, check_instruction, load_instruction, parse_instruction

__all__ = ["InstructionError", "check_instruction", "load_instruction", "parse_instruction"]
