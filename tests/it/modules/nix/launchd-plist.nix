# The keys of a launchd job (nix-darwin's modules/launchd/launchd.nix, which home-manager's
# modules/launchd/launchd.nix copies) that a job of programs.nix-tokens may use, with their types.
# Every other key is undeclared here, so setting one fails the evaluation.
{ lib, ... }:
let
  inherit (lib) mkOption types;
  optional =
    type:
    mkOption {
      type = types.nullOr type;
      default = null;
    };
in
{
  options = {
    Label = mkOption { type = types.str; };
    Disabled = optional types.bool;
    Program = optional types.path;
    ProgramArguments = optional (types.listOf types.str);
    EnvironmentVariables = optional (types.attrsOf types.str);
    LimitLoadToSessionType = optional (types.oneOf [ types.str (types.listOf types.str) ]);
    RunAtLoad = optional types.bool;
    StartInterval = optional types.int;
    StandardOutPath = optional types.path;
    StandardErrorPath = optional types.path;
    ProcessType = optional (
      types.enum [
        "Background"
        "Standard"
        "Adaptive"
        "Interactive"
      ]
    );
  };
}
