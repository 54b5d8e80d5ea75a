/**
 * DINOv3, RecTok's frozen teacher: {@link dev.rectok.models.dinov3.DinoV3} (the official {@code
 * DinoVisionTransformer} for inference), its configuration and presets ({@link
 * dev.rectok.models.dinov3.DinoV3Config}), RoPE ({@link dev.rectok.models.dinov3.DinoV3Rope}), the
 * weight loaders for the official and transformers layouts and the teacher model file ({@link
 * dev.rectok.models.dinov3.DinoV3Weights}), RecTok's image path to the teacher ({@link
 * dev.rectok.models.dinov3.TeacherImagePath}) and the replay of golden case 8 ({@link
 * dev.rectok.models.dinov3.DinoV3Golden}).
 */
package dev.rectok.models.dinov3;
