# What nix/package.nix hands rustPlatform.buildRustPackage, for .ci/sandbox-build: evaluated with
# nixpkgs' own lib (the fileset library decides which files are the source), with every other
# argument of the package replaced by a stand-in that carries only its name. Each attribute is
# text, one item a line.
{ lib }:
let
  function = import ../nix/package.nix;
  # `lib.fileset.toSource` as nixpkgs has it, but answering with the files it would copy.
  recording = lib // {
    fileset = lib.fileset // {
      toSource =
        { root, fileset }:
        map (lib.path.removePrefix root) (lib.fileset.toList fileset);
    };
  };
  standIn = name: {
    pname = name;
    name = name;
  };
  args = builtins.mapAttrs (
    name: _:
    {
      lib = recording;
      stdenv = {
        buildPlatform.canExecute = _: true;
        hostPlatform = { };
      };
      rustPlatform.buildRustPackage = attrs: attrs;
    }
    .${name} or (standIn name)
  ) (builtins.functionArgs function);
  package = function args;
  lines = builtins.concatStringsSep "\n";
  release = (package.buildType or "release") == "release" && (package.checkType or "release") == "release";
in
assert lib.assertMsg (package.doCheck or true) "nix/package.nix turns the checks off (doCheck)";
assert lib.assertMsg release "nix/package.nix builds or checks in another profile than release";
{
  files = lines package.src;
  checkFlags = lines (package.checkFlags or [ ]);
  nativeCheckInputs = lines (map (p: p.pname) (package.nativeCheckInputs or [ ]));
}
