# Evaluates one of the flake's modules with nixpkgs' module system (lib.evalModules), beside the
# declarations of the options it sets (./nixos.nix, ./home-manager.nix, ./darwin.nix). The module
# comes from flake.nix's outputs, called with stub inputs: nixpkgs is nixpkgs' real lib and, per
# system, a package set whose only package is a derivation-like attribute set with
# meta.mainProgram, so lib.getExe works and nothing is built or downloaded.
{
  lib,
  kind,
  system ? "x86_64-linux",
  modules ? [ ],
}:
let
  stubPackage = name: outPath: {
    type = "derivation";
    inherit name outPath;
    meta.mainProgram = name;
  };

  platform = system: {
    inherit system;
    isLinux = lib.hasSuffix "-linux" system;
    isDarwin = lib.hasSuffix "-darwin" system;
  };

  nixpkgs = {
    inherit lib;
    legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ] (
      system: {
        inherit lib;
        stdenv.hostPlatform = platform system;
        callPackage =
          _file: _args: stubPackage "nix-tokens" "/nix/store/00000000000000000000000000000000-nix-tokens-${system}";
      }
    );
  };

  flake = import ../../../../flake.nix;
  outputs = flake.outputs {
    self = outputs;
    inherit nixpkgs;
  };

  # home-manager evaluates `[ configuration ] ++ hmModules` (modules/default.nix): the user's
  # configuration, which imports programs.nix-tokens, comes before home-manager's own modules.
  # NixOS and nix-darwin add the user's modules after their own.
  hm = declarations: {
    module = outputs.homeManagerModules.default;
    inherit declarations;
    configurationFirst = true;
  };
  chosen =
    {
      nixos = {
        module = outputs.nixosModules.default;
        declarations = [
          ./nixos.nix
          ./git-system.nix
        ];
        configurationFirst = false;
      };
      home-manager = hm [ ./home-manager.nix ];
      home-manager-with-gh = hm [
        ./home-manager.nix
        ./gh.nix
      ];
      # The other order, as when gh's module is imported before the configuration: definitions
      # are then merged in another order, which must not change the helper lists.
      home-manager-with-gh-first = hm [
        ./home-manager.nix
        ./gh.nix
      ] // { configurationFirst = false; };
      darwin = {
        module = outputs.darwinModules.default;
        declarations = [ ./darwin.nix ];
        configurationFirst = false;
      };
      # A nix-darwin recent enough to have programs.git.
      darwin-with-git = {
        module = outputs.darwinModules.default;
        declarations = [
          ./darwin.nix
          ./git-system.nix
        ];
        configurationFirst = false;
      };
    }
    .${kind};

  configuration = {
    imports = [ chosen.module ] ++ modules;
    _module.args = {
      pkgs = nixpkgs.legacyPackages.${system};
      inherit stubPackage;
    };
  };

  result = lib.evalModules {
    modules =
      if chosen.configurationFirst then
        [ configuration ] ++ chosen.declarations
      else
        chosen.declarations ++ [ configuration ];
  };
in
{
  inherit (result) config options;
  inherit outputs;
  package = outputs.packages.${system}.default;
  inherit (result.config) warnings;
  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) result.config.assertions);
}
