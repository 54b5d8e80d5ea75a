/**
 * The offline demo's feature teacher: a small ViT classifier trained on Fashion-MNIST whose
 * final-norm patch features stand in for DINOv3's in the semantic decoder's loss
 * (docs/training.md#rad). {@link dev.rectok.train.teacher.VitTeacher} is the model and its model
 * file, {@link dev.rectok.train.teacher.TeacherTrainer} trains it. The real teacher, DINOv3 behind
 * RecTok's image path, is {@link dev.rectok.train.teacher.DinoV3Teacher}; {@link
 * dev.rectok.train.teacher.TeacherFiles} chooses the teacher by what a file is and {@link
 * dev.rectok.train.teacher.TeacherFeatureWriter} precomputes feature shards.
 */
package dev.rectok.train.teacher;
