# Run at build time by the console_assets target (console/CMakeLists.txt), every build:
# rebuilds console/dist with esbuild when the npm packages are installed, then writes the
# generated C++ source that embeds dist/* (embed.cmake). esbuild takes well under a second, and
# the generated source is rewritten only when dist changed, so a build with an unchanged
# console compiles nothing.
#   -DNODE=...   node, or empty      -DSRC=console/   -DOUT=generated .cpp
if(NODE AND EXISTS "${SRC}/node_modules/esbuild")
  execute_process(COMMAND "${NODE}" build.mjs WORKING_DIRECTORY "${SRC}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "console: the esbuild build failed (console/build.mjs)")
  endif()
elseif(NOT EXISTS "${SRC}/dist/index.html")
  message(STATUS "console: not built (node or console/node_modules missing; scripts/install-deps.sh installs them): "
                 "GET /console/ answers 404")
endif()
include("${SRC}/embed.cmake")
