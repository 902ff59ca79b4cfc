"""NiceGUI pages and components of the designer. One module per page or panel."""
