from warroom.cli_start import main

main()
