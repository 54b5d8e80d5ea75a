# Finds LibTorch for the shim and for the C++ benchmark baseline, so both use the same one.
# LibTorch, in this order: RECTOK_LIBTORCH (a libtorch zip or any prefix), a Python torch when
# RECTOK_USE_PYTHON_TORCH is on, then Debian's libtorch-dev.
set(RECTOK_LIBTORCH "$ENV{RECTOK_LIBTORCH}" CACHE PATH "LibTorch prefix (libtorch zip or install prefix)")
option(RECTOK_USE_PYTHON_TORCH "Use the LibTorch of the python3 torch package" OFF)
if(RECTOK_LIBTORCH)
  list(PREPEND CMAKE_PREFIX_PATH "${RECTOK_LIBTORCH}")
elseif(RECTOK_USE_PYTHON_TORCH OR "$ENV{RECTOK_USE_PYTHON_TORCH}")
  execute_process(COMMAND python3 -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
                  OUTPUT_VARIABLE _py_torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _py_rc)
  if(NOT _py_rc EQUAL 0)
    message(FATAL_ERROR "RECTOK_USE_PYTHON_TORCH is set but python3 cannot import torch")
  endif()
  list(PREPEND CMAKE_PREFIX_PATH "${_py_torch_prefix}")
else()
  list(APPEND CMAKE_PREFIX_PATH /usr/lib/x86_64-linux-gnu/cmake/Torch)
endif()
find_package(Torch REQUIRED)
