/* _start: sp -> argc, argv[], NULL, envp[], NULL, auxv (docs/abi.md). */
	.section .text._start, "ax"
	.globl _start
	.type _start, @function
_start:
	.option push
	.option norelax
	lla gp, __global_pointer$
	.option pop
	mv a0, sp
	andi sp, sp, -16
	call __libc_start
	unimp
	.size _start, .-_start
